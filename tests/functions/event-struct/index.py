"""FC 3.0 HTTP function returning FC's response struct; a few paths return what FC must refuse or fail on."""
import json


def handler(event, context):
    request = json.loads(event)
    path = request["rawPath"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/bad-status":
        return {"statusCode": "two hundred", "body": "x"}
    if path == "/bad-body":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if path.startswith("/status/"):
        return {"statusCode": int(path.rsplit("/", 1)[1]), "body": "as asked"}
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Served-By": "event-struct", "Set-Cookie": ["a=1", "b=2"],
                    "x-fc-request-id": "forged", "Content-Length": "999"},
        "isBase64Encoded": False,
        "body": json.dumps({"method": request["requestContext"]["http"]["method"], "path": path,
                            "requestId": context.request_id}),
    }
