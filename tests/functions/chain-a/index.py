def handler(event, context):
    return "a done: " + event.decode()
