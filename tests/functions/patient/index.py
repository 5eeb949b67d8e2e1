import json
import time


def handler(event, context):
    seconds = json.loads(event or b"{}").get("sleep", 0)
    time.sleep(seconds)
    return json.dumps({"slept": seconds})
