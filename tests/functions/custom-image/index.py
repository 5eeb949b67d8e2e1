def handler(event, context):
    return "from a custom container"
