import json


def handler(event, context):
    request = json.loads(event or b"{}")
    mark = request.get("marker", "")
    if request.get("victim"):
        print(f"FC Invoke Start RequestId: {request['victim']}", flush=True)
    for _ in range(request.get("ends", 0)):
        print(f"FC Invoke End RequestId: {context.request_id}", flush=True)
    for number in range(request.get("lines", 0)):
        print(f"forged {number} {mark}", flush=True)
    return mark
