"""Sends a registration mail: FC's example of work a sign-up endpoint hands off asynchronously."""
import json
import os
import smtplib
from email.message import EmailMessage


def handler(event, context):
    request = json.loads(event)
    to, name = request["to"], request.get("name", "there")
    message = EmailMessage()
    message["From"] = os.environ.get("MAIL_FROM", "noreply@example.com")
    message["To"] = to
    message["Subject"] = "Welcome aboard"
    message["X-Request-Id"] = context.request_id
    message.set_content(f"Hello {name},\n\nyour registration is complete.\n")
    host = os.environ.get("SMTP_HOST", "host.docker.internal")
    port = int(os.environ.get("SMTP_PORT", "1025"))
    with smtplib.SMTP(host, port, timeout=5) as smtp:
        smtp.send_message(message)
    print(f"registration mail sent to {to} through {host}:{port}")
    return json.dumps({"sent": True, "to": to})
