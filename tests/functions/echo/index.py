def handler(event, context):
    if event.startswith(b"fail"):
        raise ValueError("asked to fail")
    return event
