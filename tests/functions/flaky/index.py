def handler(event, context):
    print(f"attempt with retry count {context.retry_count}")
    raise RuntimeError(f"always fails ({event.decode()})")
