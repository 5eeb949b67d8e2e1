"""MNS's own HTTP protocol (XML, `Authorization: MNS ...`), served to the instances under MNS's endpoint names
(`<account>.mns.<region>[-internal].aliyuncs.com`) and backed by fcemu's local queues and topics, so that a
function publishes or sends with MNS's official SDKs (aliyun-mns, ali-mns) unchanged from FC.

Served by the instances' listeners only (instance_endpoint.py routes a request here by its Host), never by the
host's own listener. Every request is signed (HMAC-SHA1, signatures.verify_mns) with the emulator's access keys
or the role's temporary credentials, whose security token must come with them, as STS's must. Operations:
PublishMessage (the topic's mns_topic subscribers are invoked as `fcemu mns publish` invokes them), SendMessage,
BatchSendMessage, ReceiveMessage (one or a batch) and DeleteMessage. A local queue has no visibility timeout:
receiving takes a message off the queue, so DeleteMessage only checks its receipt handle. Errors are MNS's XML.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree
from xml.parsers import expat
from xml.sax.saxutils import escape

from starlette.types import Receive, Scope, Send

from emulator.api.body_limit import BodyTooLarge, read_body
from emulator.api.host_names import SeveralHosts, host_header, host_name
from emulator.api.signatures import SignatureProblem, SignedRequest, body_md5_matches, verify_mns
from emulator.core import Core
from emulator.destinations.local_queues import BATCH_LIMIT, MESSAGE_LIMIT_BYTES, TAG_LIMIT, valid_name
from emulator.destinations.targets import QueueTarget, parse_destination

log = logging.getLogger(__name__)

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
VERSION = "2015-06-06"
# Where aliyun-mns sends an STS security token (it is not signed: MNS checks it against the key).
TOKEN_HEADER = "security-token"
# A request's XML: a batch of messages of at most MESSAGE_LIMIT_BYTES in all, escaped (`&` is 5 bytes as `&amp;`).
REQUEST_LIMIT_BYTES = 5 * MESSAGE_LIMIT_BYTES + 64 * 1024
MESSAGES_PATH = re.compile(r"^/(?P<kind>queues|topics)/(?P<name>[^/]+)/messages$")


class MnsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Reply:
    status: int
    xml: str = ""


def _local(tag: str) -> str:
    """A tag without its namespace: aliyun-mns sends MNS's, ali-mns none."""
    return tag.rpartition("}")[2]


def _xml(root: str, items: Sequence[Mapping[str, Any]] | Mapping[str, Any], item: str = "") -> str:
    def fields(values: Mapping[str, Any]) -> str:
        return "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in values.items() if value is not None)

    inner = (fields(items) if isinstance(items, Mapping)
             else "".join(f"<{item}>{fields(values)}</{item}>" for values in items))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{XMLNS}">{inner}</{root}>'


class _DtdRefused(Exception):
    pass


def _refuse_dtd(*_: object) -> None:
    raise _DtdRefused


def _parse(body: bytes) -> ElementTree.Element:
    # No DTD: nothing MNS sends has one, and entities are how a small body grows into a large document. Refused by
    # the parser itself, so no encoding (UTF-16...) hides one from a byte search.
    check = expat.ParserCreate()
    check.StartDoctypeDeclHandler = _refuse_dtd
    check.EntityDeclHandler = _refuse_dtd
    try:
        check.Parse(body, True)
        return ElementTree.fromstring(body)
    except _DtdRefused:
        raise MnsError(400, "MalformedXML", "The XML you provided was not well-formed: a DTD is not accepted.") from None
    except (expat.ExpatError, ElementTree.ParseError) as error:
        raise MnsError(400, "MalformedXML", f"The XML you provided was not well-formed: {error}.") from error


def _message_fields(element: ElementTree.Element) -> dict[str, str]:
    return {_local(child.tag): child.text or "" for child in element}


def _schema_error(element: str) -> MnsError:
    return MnsError(400, "InvalidArgument",
                    f"The XML you provided did not validate against our published schema, cause by {element} element.")


def _body_of(fields: Mapping[str, str]) -> bytes:
    if "MessageBody" not in fields:
        raise _schema_error("MessageBody")
    body = fields["MessageBody"].encode()
    if not 1 <= len(body) <= MESSAGE_LIMIT_BYTES:
        raise MnsError(400, "InvalidArgument",
                       f"The value of MessageBody should between 1 and {MESSAGE_LIMIT_BYTES} bytes, not {len(body)}.")
    return body


def _queue_message(fields: Mapping[str, str]) -> bytes:
    body = _body_of(fields)
    delay = fields.get("DelaySeconds", "0").strip() or "0"
    if delay != "0":
        # A local queue has no delayed visibility: better said than a message that arrives early.
        raise MnsError(400, "InvalidArgument",
                       f"DelaySeconds {delay}: fcemu's local queues deliver at once, only DelaySeconds 0 is supported.")
    priority = fields.get("Priority", "8").strip() or "8"
    if not priority.isdigit() or not 1 <= int(priority) <= 16:
        raise MnsError(400, "InvalidArgument", f"The value of Priority should between 1 and 16, not '{priority}'.")
    return body


def _md5(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest().upper()


class MnsProtocol:
    """The ASGI app for MNS's names; `serves` says whether a request is addressed to one."""

    def __init__(self, names: frozenset[str], core: Core, keys: Mapping[str, str]) -> None:
        self._names = names
        self._core = core
        self._keys = keys

    def serves(self, scope: Scope) -> bool:
        try:
            host = host_header(scope)
        except SeveralHosts:
            return False  # the API's Host guard refuses it
        return host is not None and host_name(host) in self._names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = uuid.uuid4().hex[:24].upper()
        host = host_name(host_header(scope) or "")
        try:
            reply = await self._serve(scope, receive)
        except MnsError as error:
            reply = Reply(error.status, _xml("Error", {"Code": error.code, "Message": error.message,
                                                       "RequestId": request_id, "HostId": host}))
        except SignatureProblem as problem:
            reply = Reply(problem.status, _xml("Error", {"Code": problem.code, "Message": problem.message,
                                                         "RequestId": request_id, "HostId": host}))
        except Exception:
            log.exception("MNS request %s failed", request_id)
            reply = Reply(500, _xml("Error", {"Code": "InternalError", "Message": "Internal error.",
                                              "RequestId": request_id, "HostId": host}))
        body = reply.xml.encode()
        headers = [(b"x-mns-request-id", request_id.encode()), (b"x-mns-version", VERSION.encode()),
                   (b"content-length", str(len(body)).encode())]
        if body:
            headers.append((b"content-type", b"text/xml;charset=utf-8"))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _check_signature(self, scope: Scope, headers: Mapping[str, str]) -> None:
        role = self._core.role_credentials
        keys = {**self._keys, role.access_key_id: role.access_key_secret} if role is not None else self._keys
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        signed = SignedRequest(method=scope["method"], raw_path=target.decode("latin-1"), query=[], headers=headers)
        try:
            access_key_id = verify_mns(signed, keys)
        except SignatureProblem as problem:
            if problem.code in ("InvalidAccessKeyId", "MissingAuthorizationHeader"):
                problem.message += (" A function gets credentials only when its service or function has a role "
                                    "(context.credentials, ALIBABA_CLOUD_ACCESS_KEY_*).")
            raise
        if role is not None and access_key_id == role.access_key_id and role.security_token:
            sent = headers.get(TOKEN_HEADER, "")
            if not (sent.isascii() and hmac.compare_digest(sent.encode(), role.security_token.encode())):
                raise MnsError(403, "AccessDenied", "The security token is missing or is not the one issued with "
                                                    f"this AccessKey Id (header {TOKEN_HEADER}).")

    async def _serve(self, scope: Scope, receive: Receive) -> Reply:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        self._check_signature(scope, headers)
        try:
            body = await read_body(scope, receive, REQUEST_LIMIT_BYTES)
        except BodyTooLarge as error:
            raise MnsError(400, "InvalidArgument", error.message) from error
        if headers.get("content-md5") and not body_md5_matches(headers["content-md5"], body):
            raise MnsError(400, "InvalidDegist", "The Content-MD5 you specified is invalid.")
        found = MESSAGES_PATH.match(scope["path"])
        method = scope["method"]
        if found is None or (found["kind"], method) not in (("topics", "POST"), ("queues", "POST"),
                                                             ("queues", "GET"), ("queues", "DELETE")):
            raise MnsError(501, "NotImplemented",
                           f"'{method} {scope['path']}' is not an MNS operation fcemu serves: it serves "
                           "PublishMessage, SendMessage, BatchSendMessage, ReceiveMessage and DeleteMessage on "
                           "its local topics and queues")
        kind, name = found["kind"][:-1], found["name"]
        await self._check_exists(kind, name)
        if kind == "topic":
            return await self._publish(name, body)
        if method == "POST":
            return await self._send(name, body)
        # Percent-decoded, but a `+` stays one: aliyun-mns puts a base64 receipt handle in the query unescaped.
        query = {unquote(key): unquote(value) for key, _, value in
                 (part.partition("=") for part in scope["query_string"].decode("latin-1").split("&") if part)}
        if method == "GET":
            return await self._receive(name, query)
        return self._delete(query)

    async def _check_exists(self, kind: str, name: str) -> None:
        """A topic or queue exists when a function names it (an mns_topic trigger, a destination) or it holds
        messages: fcemu has no CreateQueue/CreateTopic, its local queues are made by use."""
        core = self._core
        if valid_name(name):
            if kind == "topic" and any(
                    entry.trigger.triggerType == "mns_topic" and entry.trigger.triggerConfig.get("topicName") == name
                    for entry in core.triggers.entries()):
                return
            for entry in core.async_configs.entries(core.catalog.all()):
                destinations = entry.config.destinationConfig
                for destination in (destinations.onSuccess, destinations.onFailure) if destinations else ():
                    if destination is not None and parse_destination(destination.destination) == QueueTarget(kind, name):
                        return
            if await core.queues.holds(kind, name):
                return
        code = "TopicNotExist" if kind == "topic" else "QueueNotExist"
        raise MnsError(404, code, f"The {kind} you provided does not exist: '{name}' is subscribed by no mns_topic "
                                  "trigger, named by no destination and holds no message in fcemu."
                       if kind == "topic" else
                       f"The queue you provided does not exist: '{name}' is named by no destination and holds no "
                       "message in fcemu.")

    @staticmethod
    def _root(body: bytes, expected: tuple[str, ...]) -> ElementTree.Element:
        root = _parse(body)
        if _local(root.tag) not in expected:
            raise _schema_error(_local(root.tag))
        return root

    async def _publish(self, topic: str, body: bytes) -> Reply:
        fields = _message_fields(self._root(body, ("Message",)))
        message = _body_of(fields)
        tag = fields.get("MessageTag", "")
        if len(tag) > TAG_LIMIT:
            raise MnsError(400, "InvalidArgument", f"The length of MessageTag should be at most {TAG_LIMIT}.")
        message_id = await self._core.queues.push("topic", topic, message, tag)
        return Reply(201, _xml("Message", {"MessageId": message_id, "MessageBodyMD5": _md5(message)}))

    async def _send(self, queue: str, body: bytes) -> Reply:
        root = self._root(body, ("Message", "Messages"))
        if _local(root.tag) == "Message":
            message = _queue_message(_message_fields(root))
            message_id = await self._core.queues.push("queue", queue, message)
            return Reply(201, _xml("Message", {"MessageId": message_id, "MessageBodyMD5": _md5(message)}))
        messages = [_queue_message(_message_fields(element)) for element in root if _local(element.tag) == "Message"]
        if not 1 <= len(messages) <= BATCH_LIMIT:
            raise MnsError(400, "InvalidArgument", f"A batch holds between 1 and {BATCH_LIMIT} messages, "
                                                   f"not {len(messages)}.")
        if sum(len(message) for message in messages) > MESSAGE_LIMIT_BYTES:
            raise MnsError(400, "InvalidArgument",
                           f"The messages of a batch should total at most {MESSAGE_LIMIT_BYTES} bytes.")
        sent = [{"MessageId": await self._core.queues.push("queue", queue, message), "MessageBodyMD5": _md5(message)}
                for message in messages]
        return Reply(201, _xml("Messages", sent, item="Message"))

    async def _receive(self, queue: str, query: Mapping[str, str]) -> Reply:
        batch = "numOfMessages" in query
        count = query.get("numOfMessages", "1")
        if not count.isdigit() or not 1 <= int(count) <= BATCH_LIMIT:
            raise MnsError(400, "InvalidArgument", f"The value of numOfMessages should between 1 and {BATCH_LIMIT}.")
        # waitseconds is not waited: fcemu answers at once (a long poll would hold an instance's connection).
        messages = await self._core.queues.receive("queue", queue, int(count), peek=query.get("peekonly") == "true")
        if not messages:
            raise MnsError(404, "MessageNotExist", "Message not exist.")
        shaped = [{
            "MessageId": message["MessageId"], "ReceiptHandle": message.get("ReceiptHandle"),
            "MessageBodyMD5": message["MessageBodyMD5"], "MessageBody": message["MessageBody"],
            "EnqueueTime": message["EnqueueTime"], "NextVisibleTime": message["FirstDequeueTime"],
            "FirstDequeueTime": message["FirstDequeueTime"] or message["EnqueueTime"],
            "DequeueCount": message["DequeueCount"], "Priority": message["Priority"],
        } for message in messages]
        if batch:
            return Reply(200, _xml("Messages", shaped, item="Message"))
        return Reply(200, _xml("Message", shaped[0]))

    @staticmethod
    def _delete(query: Mapping[str, str]) -> Reply:
        handle = query.get("ReceiptHandle", "")
        if not handle:
            raise MnsError(400, "MissingReceiptHandle", "ReceiptHandle is required.")
        try:
            base64.b64decode(handle, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MnsError(400, "ReceiptHandleError", "The receipt handle you provided is not valid.") from error
        # Receiving took the message off the local queue already (no visibility timeout): nothing is left to delete.
        return Reply(204)
