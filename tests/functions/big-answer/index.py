import json


def handler(event, context):
    request = json.loads(event or b"{}")
    if "rawPath" in request:  # FC 3.0's HTTP event: /http/big-answer/?bytes=N
        query = request.get("queryParameters") or {}
        headers = {"Content-Type": "text/plain"}
        size = int(query.get("headerBytes", 0))
        for number in range(0, size, 4000):  # headers of 4,000 bytes at most: HTTP clients refuse longer lines
            headers[f"X-Big-{number // 4000}"] = "h" * min(4000, size - number)
        return {"statusCode": 200, "headers": headers, "body": "x" * int(query.get("bytes", 0))}
    return b"x" * int(request.get("bytes", 0))
