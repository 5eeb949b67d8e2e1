"""FC 3.0 HTTP function with a binary body each way: it gets base64 and answers base64 (isBase64Encoded)."""
import base64
import json


def handler(event, context):
    request = json.loads(event)
    received = base64.b64decode(request["body"]) if request["isBase64Encoded"] else request["body"].encode()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/octet-stream",
                    "X-Request-Was-Base64": str(request["isBase64Encoded"]).lower()},
        "isBase64Encoded": True,
        "body": base64.b64encode(bytes(reversed(received))).decode(),
    }
