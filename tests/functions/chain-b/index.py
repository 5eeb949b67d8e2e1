import json


def handler(event, context):
    record = json.loads(event)
    raise RuntimeError("b refuses " + record["responsePayload"])
