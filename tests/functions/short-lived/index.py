def handler(event, context):
    return "ran"
