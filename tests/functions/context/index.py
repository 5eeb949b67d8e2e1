import os


def handler(event, context):
    return {
        "requestId": context.request_id,
        "function": {
            "name": context.function.name,
            "handler": context.function.handler,
            "memory": context.function.memory,
            "timeout": context.function.timeout,
        },
        "service": context.service.name,
        "region": context.region,
        "accountId": context.account_id,
        "hasCredentials": hasattr(context.credentials, "access_key_id"),
        "env": {name: os.environ.get(name) for name in ("GREETING", "FC_FUNCTION_NAME", "FC_RUNTIME")},
        "event": event.decode(),
        "uid": os.getuid(),
    }
