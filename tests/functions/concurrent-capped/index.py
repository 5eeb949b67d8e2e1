import time


def handler(event, context):
    # Long enough that four concurrent invokes overlap; the pool must still start no more than two instances.
    time.sleep(0.8)
    return "done"
