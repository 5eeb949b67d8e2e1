import json


def handler(event, context):
    return json.dumps({"service": context.service.name, "function": context.function.name})


def web(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fc2 web " + environ["REQUEST_METHOD"].encode()]
