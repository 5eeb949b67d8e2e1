import json
import os


def handler(event, context):
    if json.loads(event or b"{}").get("crash"):
        os._exit(3)
    return "alive"
