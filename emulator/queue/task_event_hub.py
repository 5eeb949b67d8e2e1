"""The task-events channel as the console listens to it: one subscription per process (a ChannelHub), each
message parsed into a TaskChange."""
from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from emulator.queue.channel_hub import ChannelHub
from emulator.redis_io.keys import TASK_EVENTS_CHANNEL, member_of_events_key, split_member

# Events a listener may fall behind by before it is told to re-read everything instead (a slow client must not
# make the process buffer without bound).
LISTENER_BACKLOG = 1000


@dataclass(frozen=True)
class TaskChange:
    function: str
    task_id: str
    status: str


def parse_message(data: bytes | str) -> TaskChange | None:
    """`<status> <events key>` as the scripts publish it; None for anything else."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    status, _, events_key = text.partition(" ")
    if not status or ":events:" not in events_key:
        return None
    function, task_id = split_member(member_of_events_key(events_key))
    if not function or not task_id:
        return None
    return TaskChange(function, task_id, status)


def task_event_hub(redis: Redis) -> ChannelHub[TaskChange]:
    return ChannelHub(redis, TASK_EVENTS_CHANNEL, parse_message, name="task events", backlog=LISTENER_BACKLOG)
