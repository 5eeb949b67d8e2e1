import json
from importlib import metadata

import alibabacloud_cdn20180510.client
import alibabacloud_credentials.client
import alibabacloud_ecs20140526.client
import alibabacloud_iot20180120.client
import alibabacloud_kms20160120.client
import alibabacloud_mns_open20220119.client
import alibabacloud_ram20150501.client
import alibabacloud_rds20140815.client
import alibabacloud_sls20201230.client
import alibabacloud_sts20150401.client
import alibabacloud_tea_openapi.client
import alibabacloud_vpc20160428.client
import elasticsearch
import OpenSSL.SSL
import oss2
import PIL.Image
import pymysql
import redis
import requests
import scrapy.crawler
import wand
from alibabacloud_fc20230330.client import Client

# FC's python3.12 list and FC 3.0's SDK, by distribution name.
DISTRIBUTIONS = (
    "oss2", "alibabacloud_ecs20140526", "alibabacloud_vpc20160428", "alibabacloud_rds20140815",
    "alibabacloud_kms20160120", "alibabacloud-mns-open20220119", "alibabacloud_cdn20180510",
    "alibabacloud_ram20150501", "alibabacloud_sts20150401", "alibabacloud_iot20180120", "alibabacloud_sls20201230",
    "Wand", "Scrapy", "PyMySQL", "elasticsearch", "Pillow", "pyOpenSSL", "redis", "requests",
    "alibabacloud_fc20230330",
)


def handler(event, context):
    return json.dumps({
        "versions": {name: metadata.version(name) for name in DISTRIBUTIONS},
        "requests_file": requests.__file__,
        "client": Client.__module__,
    })
