import json


def handler(event, context):
    request = json.loads(event or b"{}")
    if "rawPath" in request:  # FC 3.0's HTTP event: /http/big-answer/?bytes=N
        size = int((request.get("queryParameters") or {}).get("bytes", 0))
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "x" * size}
    return b"x" * int(request.get("bytes", 0))
