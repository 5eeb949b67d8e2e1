"""A WSGI application, as FC's python runtime runs HTTP functions."""
import json


def handler(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
    if environ["PATH_INFO"] == "/contract":
        # What the runtime contract told this instance, and the x-fc-* header lines it received.
        context = environ["fc.context"]
        reply = json.dumps({
            "handler": context.function.handler, "functionName": context.function.name,
            "requestId": context.request_id, "accessKeyId": context.credentials.access_key_id,
            "retryCount": context.retry_count,
            "fcHeaders": {key: value for key, value in environ.items() if key.startswith("HTTP_X_FC_")},
        }).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [reply]
    reply = json.dumps({
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "custom": environ.get("HTTP_X_CUSTOM"),
        "body": body.decode(),
        "requestId": environ["fc.context"].request_id,
    }).encode()
    status = "201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
    start_response(status, [("Content-Type", "application/json"), ("X-Served-By", "web"),
                            ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    return [reply]
