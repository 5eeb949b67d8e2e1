import json

import redis
import requests


def handler(event, context):
    return json.dumps({"requests": requests.__version__, "requests_file": requests.__file__,
                       "redis": redis.__version__})
