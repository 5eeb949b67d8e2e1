"""The local MNS queues and topics that destinations deliver to (fcemu's own endpoints, not FC's)."""
from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from emulator.api.errors import FCError, stamp_request_id
from emulator.core import Core
from emulator.destinations.local_queues import BATCH_LIMIT, MESSAGE_LIMIT_BYTES, TAG_LIMIT, valid_name

router = APIRouter(prefix="/_fcemu/mns", dependencies=[Depends(stamp_request_id)])


class ReceivedMessages(BaseModel):
    """MNS ReceiveMessage's fields, as JSON: MessageId, MessageBody, MessageBodyMD5, EnqueueTime, ..."""

    Messages: list[dict[str, Any]]


class QueueView(BaseModel):
    kind: str
    name: str
    messages: int


class PublishedMessage(BaseModel):
    """MNS PublishMessage's fields, as JSON."""

    MessageBody: str
    MessageTag: str = Field(default="", max_length=TAG_LIMIT)


class PublishReply(BaseModel):
    MessageId: str
    MessageBodyMD5: str


@router.post("/topics/{name}/messages", status_code=201)
async def publish_message(request: Request, name: str, message: PublishedMessage) -> PublishReply:
    """Publishes to a local topic: stored like a destination's record, and every function with an enabled
    mns_topic trigger on the topic is invoked asynchronously with FC's MNS event."""
    core: Core = request.app.state.core
    body = message.MessageBody.encode()
    if len(body) > MESSAGE_LIMIT_BYTES:
        raise FCError(400, "InvalidArgument",
                      f"MessageBody of {len(body)} bytes exceeds MNS's message limit of {MESSAGE_LIMIT_BYTES} bytes")
    if not valid_name(name):
        raise FCError(400, "InvalidArgument", f"topic name '{name}' is not an MNS name: it has a brace")
    message_id = await core.queues.push("topic", name, body, message.MessageTag)
    stored = hashlib.md5(body, usedforsecurity=False).hexdigest().upper()  # MNS's own checksum
    return PublishReply(MessageId=message_id, MessageBodyMD5=stored)


@router.get("/{kind}/{name}/messages")
async def receive_messages(
    request: Request,
    kind: Literal["queues", "topics"],
    name: str,
    numOfMessages: Annotated[int, Query(ge=1, le=BATCH_LIMIT)] = BATCH_LIMIT,  # noqa: N803 - MNS's query names
    peekonly: bool = False,
) -> ReceivedMessages:
    """Receives (takes off the queue) or, with peekonly=true, peeks at the oldest messages."""
    core: Core = request.app.state.core
    messages = await core.queues.receive(kind[:-1], name, numOfMessages, peekonly)
    return ReceivedMessages(Messages=messages)


@router.get("")
async def list_queues(request: Request) -> list[QueueView]:
    core: Core = request.app.state.core
    return [QueueView(kind=kind, name=name, messages=count) for kind, name, count in await core.queues.names()]
