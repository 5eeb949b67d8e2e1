import time


def handler(event, context):
    # Long enough that the next tasks are queued before this one ends.
    time.sleep(0.3)
    return event
