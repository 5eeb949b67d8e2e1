import json
import os


def handler(event, context):
    return json.dumps({
        "greeting": os.environ.get("GREETING"),
        "own_name": os.environ.get("OWN_NAME"),
        "other_handler": os.environ.get("OTHER_HANDLER"),
        "account": os.environ.get("ACCOUNT"),
        "function": context.function.name,
    })


def echo(event, context):
    return event
