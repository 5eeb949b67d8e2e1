def handler(event, context):
    print("about to fail")
    raise ValueError("bad input: " + event.decode())
