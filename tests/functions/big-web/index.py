from urllib.parse import parse_qs


def handler(environ, start_response):
    query = parse_qs(environ["QUERY_STRING"])
    size = int(query.get("bytes", ["0"])[0])
    header_bytes = int(query.get("headerBytes", ["0"])[0])
    # Headers of 4,000 bytes at most: HTTP clients refuse longer lines.
    big = [(f"X-Big-{n // 4000}", "h" * min(4000, header_bytes - n)) for n in range(0, header_bytes, 4000)]
    start_response("200 OK", [("Content-Type", "application/octet-stream"), *big])
    return [b"\xff" * size]
