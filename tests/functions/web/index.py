"""A WSGI application, as FC's python runtime runs HTTP functions."""
import json


def handler(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
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
