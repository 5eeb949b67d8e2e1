"""Every Redis key and pub/sub channel name fcemu uses, written once here; the docs' table of them is rendered from
this module (docs/hooks/redis_keys_page.py), so each name's docstring is its documentation. A key's or channel's
docstring opens with what it is (`Hash:`, `Sorted set:`, `Channel:`, ... as in KINDS) and then says what it
holds; the helpers that build names say what they are.

Every key of one task carries its shard's hash tag, so each script stays in one slot of a Redis Cluster and the
same scripts run unchanged on a single Redis. The Lua scripts are handed every key they touch (none is built in
Lua), except the channels `fcemu:task-events` and `fcemu:deliver` that common.lua publishes on."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

KINDS = ("String", "Hash", "List", "Set", "Sorted set", "Channel")
"""The openings of the docstrings of keys and channels (a Redis type, or a pub/sub channel)."""

PREFIX = "fcemu"
"""The first part of every name."""

# The queue: nudges, stop requests and task events. Each task's own keys are ShardKeys' below.

WAKE_CHANNEL = f"{PREFIX}:wake"
"""Channel: a nudge to the dispatchers that a task is due (the message is its member, which a claim can name)."""

STOP_CHANNEL = f"{PREFIX}:stop"
"""Channel: a request to stop a running task (StopAsyncTask, a deleted function's tasks); the message is its
member."""

DELIVER_CHANNEL = f"{PREFIX}:deliver"
"""Channel: published by common.lua when a finished task has a destination to deliver to (the message is the
shard's tag)."""

TASK_EVENTS_CHANNEL = f"{PREFIX}:task-events"
"""Channel: published by the scripts (common.lua) on every task state change: `<status> <events key>`."""


def member_of_events_key(events_key: str) -> str:
    """The task member (`<function>/<taskId>`) an events key (ShardKeys.events) is for."""
    return events_key.split(":events:", 1)[1]


def task_member(function: str, task_id: str) -> str:
    """A task's name inside the queue's sets: unique per function, as FC's task ids are."""
    return f"{function}/{task_id}"


def split_member(member: str) -> tuple[str, str]:
    """A task member's function and task id."""
    function, _, task_id = member.partition("/")
    return function, task_id


@dataclass(frozen=True)
class ShardKeys:
    """The keys of one queue shard, all under its hash tag `fcemu:{s<shard>}`."""

    shard: int
    """The shard's number, from 0 to FCEMU_QUEUE_SHARDS - 1."""

    @property
    def tag(self) -> str:
        """The shard's hash tag, the start of each of its keys."""
        return f"{PREFIX}:{{s{self.shard}}}"

    @property
    def task_prefix(self) -> str:
        """The start of every `task` key of the shard."""
        return f"{self.tag}:task:"

    @property
    def events_prefix(self) -> str:
        """The start of every `events` key of the shard."""
        return f"{self.tag}:events:"

    @property
    def due_prefix(self) -> str:
        """The start of every `due` key of the shard."""
        return f"{self.tag}:due:"

    @property
    def retrying_prefix(self) -> str:
        """The start of every `retrying` key of the shard."""
        return f"{self.tag}:retrying:"

    def task(self, member: str) -> str:
        """Hash: the task record (payload, status, attempts, result, ...)."""
        return self.task_prefix + member

    def events(self, member: str) -> str:
        """List: the task's events, as JSON."""
        return self.events_prefix + member

    def due(self, function: str) -> str:
        """Sorted set: a function's queued tasks by due time (ms)."""
        return self.due_prefix + function

    def retrying(self, function: str) -> str:
        """Sorted set: per function, its due tasks waiting out a retry's backoff (a subset of its due set, for the
        metrics' queue depth)."""
        return self.retrying_prefix + function

    @property
    def due_index(self) -> str:
        """Sorted set: functions with due entries, scored by each one's earliest due time (ms)."""
        return f"{self.tag}:due-functions"

    @property
    def deliveries(self) -> str:
        """Sorted set: finished tasks whose record is owed to a destination, scored by when to try (ms)."""
        return f"{self.tag}:deliveries"

    @property
    def inflight(self) -> str:
        """Sorted set: claimed tasks, scored by their lease deadline (ms)."""
        return f"{self.tag}:inflight"

    def listing(self, function: str) -> str:
        """Sorted set: a function's task-mode tasks by startedTime, for GetAsyncTask listings; each enqueue drops
        entries older than FCEMU_TASK_RETENTION_S + 8 days (the longest max event age plus the longest timeout),
        by when their records are gone."""
        return f"{self.tag}:tasks-of:{function}"


def shard_of(member: str, shards: int) -> ShardKeys:
    """The shard a task member's keys live in (one of `shards`)."""
    return ShardKeys(zlib.crc32(member.encode()) % shards)


# The clock offset that fcemu's clock steering adds to Redis's time.

CLOCK_KEY = f"{PREFIX}:clock-offset-ms"
"""String: how far (ms) the clock was advanced, shared by every process on this Redis."""

CLOCK_CHANNEL = f"{PREFIX}:clock"
"""Channel: the new offset, published whenever it grows: every sleeping loop wakes and re-reads it."""

# Functions and services deployed through the API. The functions hash and the code zips share one hash tag: the
# scripts of catalog/deployments.py touch both, which a Redis Cluster allows only within one slot.

DEPLOYMENTS_TAG = f"{PREFIX}:{{deployments}}"
"""The hash tag of the deployed functions and their code zips."""

FUNCTIONS_KEY = f"{DEPLOYMENTS_TAG}:functions"
"""Hash: the functions deployed through the API, function name -> record (JSON)."""

CODE_PREFIX = f"{DEPLOYMENTS_TAG}:code:"
"""String: a deployed code zip, under this prefix and its sha256 (each removed with the last function using
it)."""

VERSIONS_KEY = f"{DEPLOYMENTS_TAG}:versions"
"""Hash: the published versions of functions, `<function>/<versionId>` -> record (JSON: the function's
configuration and its code checksum, whose zip the version keeps alive), and `<function>` -> the last version id
handed out (ids are never reused)."""

ALIASES_KEY = f"{DEPLOYMENTS_TAG}:aliases"
"""Hash: the aliases of functions, `<function>/<alias>` -> record (JSON: versionId, additionalVersionWeight...);
under the deployments' tag, so that deleting a version checks the aliases in the same script."""

VERSIONS_CHANGED_CHANNEL = f"{PREFIX}:versions-changed"
"""Channel: a version or an alias was published, changed or deleted: every process re-reads them."""

SERVICES_KEY = f"{PREFIX}:services"
"""Hash: the services created through the API, service name -> record (JSON)."""

LEGACY_FUNCTIONS_KEY = f"{PREFIX}:deployed-functions"
"""Hash: FUNCTIONS_KEY's name before the `{deployments}` tag, renamed to it at start."""

LEGACY_CODE_PREFIX = f"{PREFIX}:code:"
"""String: CODE_PREFIX's name before the `{deployments}` tag, renamed to it at start."""

DEPLOYMENTS_CHANGED_CHANNEL = f"{PREFIX}:deployments-changed"
"""Channel: a deployed function, service or published layer changed: every process re-reads them."""

# Layer versions published through FC's layer API. Keys of one layer share the hash tag `{<name>}`.

LAYER_NAMES_KEY = f"{PREFIX}:layer-names"
"""Set: the names of the layers published through the API."""


def layer_key(name: str) -> str:
    """Hash: a published layer's versions, version -> record (JSON), `next` -> the last version handed out, and
    `deleted:<version>` for each deleted one."""
    return f"{PREFIX}:layer:{{{name}}}"


def layer_code_key(name: str) -> str:
    """Hash: a published layer's zips, version -> zip."""
    return f"{PREFIX}:layer-code:{{{name}}}"


ASYNC_CONFIGS_KEY = f"{PREFIX}:async-configs"
"""Hash: async invoke configs put through the API, `<function>:<qualifier>` -> config (JSON)."""

ASYNC_CONFIGS_CHANGED_CHANNEL = f"{PREFIX}:async-configs-changed"
"""Channel: an async invoke config changed (the message is its field, or the function whose configs went):
every process re-reads them."""

CONCURRENCY_CONFIGS_KEY = f"{PREFIX}:concurrency-configs"
"""Hash: reserved concurrency put through the API (PutConcurrencyConfig), `<function>` -> reservedConcurrency."""

CONCURRENCY_CONFIGS_CHANGED_CHANNEL = f"{PREFIX}:concurrency-configs-changed"
"""Channel: a function's reserved concurrency changed (the message is the function): every process re-reads
them, and its pools and dispatcher apply the new limit at once."""

INVOCATION_RESTRICTIONS_KEY = f"{PREFIX}:invocation-restrictions"
"""Hash: functions whose invocation was disabled (DisableFunctionInvocation) or enabled again since, `<function>` ->
restriction (JSON: disable, reason, lastModifiedTime, abortOngoingRequest)."""

INVOCATION_RESTRICTIONS_CHANGED_CHANNEL = f"{PREFIX}:invocation-restrictions-changed"
"""Channel: a function's invocation was disabled or enabled (the message is the function): every process re-reads
the restrictions, drains (or, with abortOngoingRequest, stops) a newly disabled function's instances and starts
claiming its tasks again once it is enabled."""

PROVISION_CONFIGS_KEY = f"{PREFIX}:provision-configs"
"""Hash: provision configs put through the API, `<function>:<qualifier>` -> config (JSON)."""

PROVISION_CONFIGS_CHANGED_CHANNEL = f"{PREFIX}:provision-configs-changed"
"""Channel: a provision config changed (the message is its field, or the function whose configs went): every
process re-reads them and starts or releases the instances it keeps warm."""

TRIGGERS_KEY = f"{PREFIX}:triggers"
"""Hash: triggers created through the API, `<function>/<trigger name>` -> trigger (JSON)."""

TRIGGERS_CHANGED_CHANNEL = f"{PREFIX}:triggers-changed"
"""Channel: a trigger changed (the message is its field, or the function whose triggers went): every process
re-reads them."""

# Local MNS queues and topics (destinations/local_queues.py). MNS names have no braces (the routes and
# destinations refuse one that does), which the outbox's hash tag relies on.

MNS_PREFIX = f"{PREFIX}:mns:"
"""The start of every mns_key (scanned to list the local queues and topics)."""


def mns_key(kind: str, name: str) -> str:
    """List: a local MNS queue's or topic's messages (`kind` is `queue` or `topic`), as JSON; the key exists while
    it holds any."""
    return f"{MNS_PREFIX}{kind}:{name}"


def mns_outbox_key(topic: str) -> str:
    """Hash: a topic's published messages whose subscribers are not told yet, message id -> message; in the
    topic's own hash slot, the topic key (which carries no tag) being its tag."""
    return f"{PREFIX}:mns-outbox:{{{mns_key('topic', topic)}}}"


MNS_OUTBOX_TOPICS_KEY = f"{PREFIX}:mns-outbox-topics"
"""Set: topics whose outbox may hold messages (added before a message goes in; a drained outbox is an empty
key)."""

# Function logs. One invocation's lines sit under their own hash tag, so that they stay in one slot of a Redis
# Cluster; the indexes are one key each.

LOG_CHANNEL = f"{PREFIX}:logs"
"""Channel: every kept line, as its JSON entry (follow mode)."""

LOG_RECENT_INDEX = f"{PREFIX}:logs:recent"
"""Sorted set: every function's log streams by when their first line came (ms)."""

LOG_INSTANCE_PREFIX = "instance:"
"""The start of the stream id of an instance's lines that belong to no request (the stream id of a request's
lines is its request id)."""


def log_lines_key(stream_id: str) -> str:
    """List: a log stream's lines, JSON entries as the route answers them: a request's, or an instance's lines
    that belong to no request (stream id LOG_INSTANCE_PREFIX + the instance id; the last 1,000)."""
    return f"{PREFIX}:{{log:{stream_id}}}:lines"


def log_function_index(function: str) -> str:
    """Sorted set: a function's log streams (request ids, instance streams) by when their first line came (ms)."""
    return f"{PREFIX}:logs:of:{function}"


def log_task_key(function: str, task_id: str) -> str:
    """String: the request id of an async task (task ids are unique per function, as FC's are)."""
    return f"{PREFIX}:logs:task:{function}/{task_id}"


# Instances' owners, the function credentials, the outage probe.

OWNER_PREFIX = f"{PREFIX}:owners:"
"""String: a live owner of containers, under this prefix and the owner: its host, pid and Docker engine (JSON),
with a TTL it refreshes."""

CLUSTER_KEY = f"{PREFIX}:cluster-id"
"""String: this Redis's id (random, set once), which labels the containers of its emulators."""

ROLE_CREDENTIALS_KEY = f"{PREFIX}:role-credentials"
"""String: the credentials made up once per emulator for functions with a role (JSON), unless the settings supply
some."""

PROBE_KEY = f"{PREFIX}:probe"
"""String: never written; read by the outage probe (a read is refused while Redis loads its AOF, unlike PING)."""
