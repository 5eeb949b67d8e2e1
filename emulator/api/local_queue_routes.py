"""The local MNS queues and topics that destinations deliver to (fcemu's own endpoints, not FC's)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from emulator.api.errors import stamp_request_id
from emulator.core import Core

router = APIRouter(prefix="/_fcemu/mns", dependencies=[Depends(stamp_request_id)])


class ReceivedMessages(BaseModel):
    """MNS ReceiveMessage's fields, as JSON: MessageId, MessageBody, MessageBodyMD5, EnqueueTime, ..."""

    Messages: list[dict[str, Any]]


class QueueView(BaseModel):
    kind: str
    name: str
    messages: int


@router.get("/{kind}/{name}/messages")
async def receive_messages(
    request: Request,
    kind: Literal["queues", "topics"],
    name: str,
    numOfMessages: Annotated[int, Query(ge=1, le=16)] = 16,  # noqa: N803 - MNS's query names
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
