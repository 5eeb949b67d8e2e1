import json
import time


def handler(event, context):
    # Sleeps the seconds the event gives; answers when it ran (the host's clock: instances share its kernel).
    started = time.time()
    time.sleep(float(event or b"0"))
    return json.dumps({"start": started, "end": time.time()})
