"""MNS topic triggers: when a message is stored on a local topic, every enabled mns_topic trigger subscribed to
that topic gets an async invocation of its function with FC's MNS event. The task id is the trigger and the
message id, so notifying the same message twice (several processes, a repeated call) runs the function once."""
from __future__ import annotations

import json
import logging
from typing import Any

from redis.exceptions import RedisError

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.queue.store import TaskStore
from emulator.queue.submit import submit_invocation
from emulator.triggers.definitions import StoredTrigger, Triggers

log = logging.getLogger(__name__)


def mns_event(trigger: StoredTrigger, topic: str, message: dict[str, Any], account_id: str) -> bytes:
    """FC's event for one message: STREAM passes the message body as it is; JSON wraps it in the MNS
    notification (with MessageTag when the message has one)."""
    if trigger.triggerConfig.get("notifyContentFormat", "STREAM") == "STREAM":
        return str(message["MessageBody"]).encode()
    event: dict[str, Any] = {
        "TopicOwner": account_id,
        "Message": message["MessageBody"],
        "Subscriber": account_id,
        "PublishTime": message["EnqueueTime"],
        "SubscriptionName": trigger.triggerName,
        "MessageMD5": message["MessageBodyMD5"],
        "TopicName": topic,
        "MessageId": message["MessageId"],
    }
    if message.get("MessageTag"):
        event["MessageTag"] = message["MessageTag"]
    return json.dumps(event).encode()


def task_id_for(trigger: StoredTrigger, message_id: str) -> str:
    return f"mns-{trigger.triggerName}-{message_id}"


class TopicSubscribers:
    def __init__(self, triggers: Triggers, catalog: Catalog, store: TaskStore, async_configs: AsyncConfigs,
                 account_id: str) -> None:
        self._triggers = triggers
        self._catalog = catalog
        self._store = store
        self._async_configs = async_configs
        self._account_id = account_id

    def subscribed(self, topic: str, tag: str) -> list[StoredTrigger]:
        """Enabled triggers on the topic whose filterTag (when set) is the message's tag, as MNS matches it."""
        found = []
        for entry in self._triggers.entries():
            trigger = entry.trigger
            config = trigger.triggerConfig
            if (trigger.triggerType == "mns_topic" and config.get("enable", True)
                    and config.get("topicName") == topic and config.get("filterTag", "") in ("", tag)):
                found.append(trigger)
        return found

    async def notify(self, topic: str, message: dict[str, Any]) -> int:
        """Submits one invocation per subscribed trigger; returns how many were newly accepted. One trigger's
        error (a function gone, a bad config) is logged and skipped; Redis being unreachable is raised."""
        accepted = 0
        for trigger in self.subscribed(topic, str(message.get("MessageTag") or "")):
            try:
                accepted += await self._submit(trigger, topic, message)
            except RedisError:
                raise
            except Exception:
                log.exception("mns_topic trigger %s of %s failed for message %s on topic %s; skipped",
                              trigger.triggerName, trigger.functionName, message.get("MessageId"), topic)
        return accepted

    async def _submit(self, trigger: StoredTrigger, topic: str, message: dict[str, Any]) -> int:
        definition = self._catalog.get(trigger.functionName)
        if definition is None:
            return 0
        policy = self._async_configs.task_policy(definition, trigger.qualifier)
        task_id = task_id_for(trigger, message["MessageId"])
        enqueued = await submit_invocation(
            self._store, policy, task_id=task_id, request_id=task_id,
            payload=mns_event(trigger, topic, message, self._account_id), delay_ms=0, task_mode=policy.async_task,
            kind="mns", qualifier=trigger.qualifier,
        )
        if enqueued.created:
            log.info("mns_topic trigger %s of %s invoked for message %s on topic %s", trigger.triggerName,
                     trigger.functionName, message["MessageId"], topic)
        return int(enqueued.created)
