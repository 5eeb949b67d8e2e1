import json


def handler(event, context):
    name = "world"
    if event:
        name = json.loads(event).get("name", name)
    print(f"saying hello to {name}")
    return f"hello {name}"
