"""FC 3.0 HTTP function returning the event it got: a JSON value without statusCode, so FC's answer is a 200
with the value as its body."""
import json


def handler(event, context):
    return json.loads(event)
