import json
import time


def handler(event, context):
    text = event.decode()
    if text == "outlast":
        # Longer than the function's timeout: only a debugged function (timeout lifted) may finish it.
        time.sleep(2)
    answer = {"got": text}  # the test's breakpoint
    return json.dumps(answer)
