from urllib.parse import parse_qs


def handler(environ, start_response):
    size = int(parse_qs(environ["QUERY_STRING"]).get("bytes", ["0"])[0])
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [b"\xff" * size]
