"""sign-up: an FC 3.0 HTTP function. POST {"email": ..., "name": ...} registers the user and answers 202 at once;
the welcome mail is sent by send-email, invoked asynchronously (with a delay) through FC's API, the way a function
does in FC: aliyun-fc2 (built into FC's python runtime), the region's internal endpoint, the role's credentials."""
import base64
import json
import os
import re

import fc2

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def handler(event, context):
    request = json.loads(event)
    body = request.get("body") or ""
    if request.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    try:
        user = json.loads(body)
        email, name = user["email"], user.get("name", "there")
    except (ValueError, KeyError, TypeError):
        return answer(400, {"error": 'send {"email": ..., "name": ...}'})
    if not isinstance(email, str) or not EMAIL.fullmatch(email):
        return answer(400, {"error": f"not an e-mail address: {email!r}"})
    credentials = context.credentials
    client = fc2.Client(
        endpoint=f"https://{context.account_id}.{context.region}-internal.fc.aliyuncs.com",
        accessKeyID=credentials.access_key_id, accessKeySecret=credentials.access_key_secret,
        securityToken=credentials.security_token,
    )
    reply = client.invoke_function(
        context.service.name, os.environ["MAILER"], payload=json.dumps({"to": email, "name": name}),
        headers={"x-fc-invocation-type": "Async", "x-fc-async-delay": os.environ.get("MAIL_DELAY_SECONDS", "1")},
    )
    mail_request = reply.headers["x-fc-request-id"]
    print(f"registered {email}; welcome mail queued as {mail_request}")
    return answer(202, {"registered": email, "mailRequestId": mail_request})


def answer(status, document):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(document)}
