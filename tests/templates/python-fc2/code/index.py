import json
import os


def handler(event, context):
    return json.dumps({"service": context.service.name, "function": context.function.name,
                       "env": {name: os.environ.get(name) for name in ("FC_SERVICE_NAME", "FC_FUNCTION_NAME")}})


def web(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fc2 web " + environ["REQUEST_METHOD"].encode()]
