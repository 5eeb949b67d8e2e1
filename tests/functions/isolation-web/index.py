"""Answers with every request header its WSGI environ holds."""
import json


def handler(environ, start_response):
    headers = {key: value for key, value in environ.items() if key.startswith("HTTP_")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(headers).encode()]
