calls = {"initializer": 0, "handler": 0}


def initialize(context):
    calls["initializer"] += 1
    print("initialized by", context.request_id)


def handler(event, context):
    calls["handler"] += 1
    return dict(calls)
