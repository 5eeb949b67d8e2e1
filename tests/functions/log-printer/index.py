import json
import logging
import time


def handler(event, context):
    request = json.loads(event or b"{}")
    marker = request.get("marker", "")
    for number in range(request.get("lines", 1)):
        print(f"line {number} {marker}", flush=True)
    logging.getLogger().info("logged %s", marker)
    if request.get("sleep"):
        print(f"working {marker}", flush=True)
        time.sleep(request["sleep"])
        print(f"woke {marker}", flush=True)
    if request.get("fail"):
        raise ValueError(f"failing on purpose {marker}")
    return marker
