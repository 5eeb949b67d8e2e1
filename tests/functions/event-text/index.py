"""FC 3.0 HTTP function returning a plain string: FC's answer is a 200 with it as the body."""
import json


def handler(event, context):
    request = json.loads(event)
    return "hello " + request["queryParameters"].get("name", "world")
