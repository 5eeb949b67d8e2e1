"""The sign-up topic and queue the MNS SDK tests (Python's and Node.js's) publish and send to, and the function
subscribed to the topic."""
from __future__ import annotations

import textwrap

TOPIC = "signups"
QUEUE = "signup-jobs"
QUEUE_ARN = f"acs:mns:cn-hangzhou:1234567890123456:/queues/{QUEUE}/messages"

SUBSCRIBER = textwrap.dedent('''
    def handler(event, context):
        print("signed up: " + event.decode())
        return event
''')
