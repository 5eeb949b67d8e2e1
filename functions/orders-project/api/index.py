"""orders-api: an FC 3.0 HTTP function. POST {"items": [{"sku": ..., "quantity": ...}]} answers the priced order."""
import base64
import json
import os

import pricing  # from the layer pricing (/opt/python)


def handler(event, context):
    request = json.loads(event)
    body = request.get("body") or ""
    if request.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    if request["requestContext"]["http"]["method"] == "GET":
        return answer(200, {"prices": pricing.PRICES, "currency": os.environ["CURRENCY"]})
    try:
        items = json.loads(body)["items"]
        total = pricing.total(items)
    except (ValueError, KeyError, TypeError) as error:
        return answer(400, {"error": f"not an order: {error}"})
    print(f"priced order of {len(items)} item(s): {total}")
    return answer(200, {"items": items, "total": total, "currency": os.environ["CURRENCY"],
                        "requestId": context.request_id})


def answer(status, document):
    """FC 3.0's response struct: the body is a string (or base64 with isBase64Encoded)."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(document)}
