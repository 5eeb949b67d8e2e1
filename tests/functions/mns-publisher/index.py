def handler(event, context):
    return "published: " + event.decode()
