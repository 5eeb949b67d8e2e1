"""orders-notify: invoked by the MNS topic trigger with FC's JSON event; Message is the destination record that
orders-worker's success produced (its responsePayload is what the worker returned)."""
import json


def handler(event, context):
    message = json.loads(event)
    record = json.loads(message["Message"])
    order = json.loads(record["responsePayload"])
    print(f"order {order['id']} booked: {order['total']} {order['currency']} (MNS message {message['MessageId']})")
    return json.dumps({"notified": order["id"]})
