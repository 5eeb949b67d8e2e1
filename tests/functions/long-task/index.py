import time


def handler(event, context):
    print("long task started", flush=True)
    time.sleep(25)
    return "finished"
