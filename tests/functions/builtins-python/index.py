import json
from importlib import metadata

import aliyun.log
import aliyunsdkcdn
import aliyunsdkcore
import aliyunsdkecs
import aliyunsdkiot
import aliyunsdkkms
import aliyunsdkram
import aliyunsdkrds
import aliyunsdksts
import aliyunsdkvpc
import elasticsearch
import fc2
import mns.account
import OpenSSL.SSL
import oss2
import PIL.Image
import pymysql
import redis
import requests
import scrapy.crawler
import tablestore
import wand
from alibabacloud_fc20230330.client import Client

# FC's python3.10 list, by distribution name.
DISTRIBUTIONS = (
    "oss2", "tablestore", "aliyun-fc2", "aliyun-python-sdk-ecs", "aliyun-python-sdk-vpc", "aliyun-python-sdk-rds",
    "aliyun-python-sdk-kms", "aliyun-mns", "aliyun-python-sdk-cdn", "aliyun-python-sdk-ram",
    "aliyun-python-sdk-sts", "aliyun-python-sdk-iot", "aliyun-log-python-sdk", "Wand", "Scrapy", "PyMySQL",
    "elasticsearch", "Pillow", "pyOpenSSL", "redis", "requests",
)


def handler(event, context):
    return json.dumps({
        "versions": {name: metadata.version(name) for name in DISTRIBUTIONS},
        "modules": {"requests": requests.__version__, "fc2": fc2.__version__, "oss2": oss2.__version__,
                    "tablestore": tablestore.__version__},
        "requests_file": requests.__file__,
        "fc3": [Client.__module__, metadata.version("alibabacloud_fc20230330")],
    })
