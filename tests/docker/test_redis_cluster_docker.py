"""The async suite's core on both backends: a single Redis and a real 3-master Redis Cluster (started here on
loopback ports), through a real `fcemu serve` and real containers. The queue has six shards, so that its
`{sN}` hash tags land on every master of the cluster."""
from __future__ import annotations

import itertools
import json
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from emulator.redis_io.keys import ShardKeys
from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.logs_command import cli
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import FINAL, TaskWatcher

SHARDS = 6
QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"


class Backend:
    def __init__(self, kind: str, url: str, cluster: RedisCluster | None) -> None:
        self.kind, self.url, self.cluster = kind, url, cluster


def _start(kind: str, folder: Path) -> Iterator[Backend]:
    if kind == "single":
        server = RedisServer(folder).start()
        yield Backend("single", server.url, None)
        server.kill()
    else:
        cluster = RedisCluster(folder).start()
        yield Backend("cluster", cluster.url, cluster)
        cluster.stop()


@pytest.fixture(scope="module", params=["single", "cluster"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from _start(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(params=["single", "cluster"])
def own_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A backend no other emulator dispatches from."""
    yield from _start(request.param, tmp_path / request.param)


@pytest.fixture(scope="module")
def served(backend: Backend, functions_dir: Path, tmp_path_factory: pytest.TempPathFactory,
           docker_client: docker.DockerClient) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("logs") / "fcemu.log", redis_url=backend.url,
                              retry_base_delay_s="0.05", queue_shards=str(SHARDS)).start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == []


@pytest.fixture()
def events(backend: Backend) -> Iterator[TaskWatcher]:
    watching = TaskWatcher(backend.url)
    yield watching
    watching.close()


def _task(emulator: EmulatorProcess, function: str, task_id: str) -> dict:
    reply = requests.get(f"{emulator.url}/2023-03-30/functions/{function}/async-tasks/{task_id}", timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _statuses(task: dict) -> list[str]:
    return [event["status"] for event in task["events"]]


def _invoke(emulator: EmulatorProcess, function: str, body: bytes = b"{}", **headers: str) -> str:
    task_id = f"c_{uuid.uuid4().hex[:12]}"
    reply = requests.post(v3(emulator, function), data=body, timeout=30, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, **headers})
    assert reply.status_code == 202, reply.text
    return task_id


def test_accept_claim_finish_delay_and_listing(served: EmulatorProcess, events: TaskWatcher) -> None:
    now = _invoke(served, "hello", b'{"name": "cluster"}')
    later = _invoke(served, "hello", **{"x-fc-async-delay": "1"})
    assert events.wait_for("hello", now) == "Succeeded"
    assert events.wait_for("hello", later) == "Succeeded"
    task = _task(served, "hello", now)
    assert _statuses(task) == ["Enqueued", "Dequeued", "Running", "Succeeded"]
    assert task["returnPayload"] == "hello cluster"
    deferred = {event["status"]: event["timestamp"] for event in _task(served, "hello", later)["events"]}
    assert deferred["Dequeued"] - deferred["Enqueued"] >= 1000
    listed = requests.get(f"{served.url}/2023-03-30/functions/hello/async-tasks",
                          params={"prefix": "c_", "limit": 100}, timeout=30).json()
    assert {now, later} <= {task["taskId"] for task in listed["tasks"]}


def test_a_listing_is_paged_across_shards_and_an_mns_publish_reaches_its_subscribers(
    served: EmulatorProcess, events: TaskWatcher
) -> None:
    """The listing's cursor over shards spread on the cluster's nodes; a topic's message and its outbox written
    by one script (the outbox shares the topic's slot)."""
    prefix = f"page_{uuid.uuid4().hex[:6]}"
    ids = [f"{prefix}_{index}" for index in range(7)]
    for task_id in ids:
        requests.post(v3(served, "hello"), data=b"{}", timeout=30,
                      headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}).raise_for_status()
    url = f"{served.url}/2023-03-30/functions/hello/async-tasks"
    paged: list[str] = []
    token = None
    while True:
        page = requests.get(url, params={"prefix": prefix, "limit": 2, **({"nextToken": token} if token else {})},
                            timeout=30).json()
        paged += [task["taskId"] for task in page["tasks"]]
        token = page.get("nextToken")
        if not token:
            break
    everything = requests.get(url, params={"prefix": prefix, "limit": 100}, timeout=30).json()["tasks"]
    assert paged == [task["taskId"] for task in everything] and sorted(paged) == sorted(ids)
    published = requests.post(f"{served.url}/_fcemu/mns/topics/mns-fanout/messages",
                              json={"MessageBody": "on a cluster"}, timeout=30)
    assert published.status_code == 201, published.text
    message_id = published.json()["MessageId"]
    assert events.wait_for("mns-subscriber", f"mns-stream-{message_id}") == "Succeeded"


def test_retries_then_a_function_destination_then_a_queue(served: EmulatorProcess, events: TaskWatcher) -> None:
    order = f"order-{uuid.uuid4().hex[:6]}"
    task_id = _invoke(served, "chain-a", order.encode())
    assert events.wait_for("chain-a", task_id) == "Succeeded"
    assert events.wait_for("chain-b", f"chain-a_{task_id}") == "Failed"
    assert events.wait_for("chain-b", f"chain-a_{task_id}", "DestinationSucceeded")
    messages = requests.get(f"{served.url}/_fcemu/mns/queues/chain-failures/messages", timeout=30).json()["Messages"]
    records = [json.loads(message["MessageBody"]) for message in messages]
    assert [r for r in records if json.loads(r["requestPayload"])["responsePayload"] == f"a done: {order}"]


def test_stop_a_queued_and_a_running_task(served: EmulatorProcess, events: TaskWatcher) -> None:
    queued = _invoke(served, "hello", **{"x-fc-async-delay": "3600"})
    assert requests.put(f"{served.url}/2023-03-30/functions/hello/async-tasks/{queued}/stop", timeout=30).ok
    assert events.wait_for("hello", queued) == "Stopped"
    assert _statuses(_task(served, "hello", queued)) == ["Enqueued", "Stopped"]
    running = _invoke(served, "long-task")
    events.wait_for("long-task", running, "Running")
    assert requests.put(f"{served.url}/2023-03-30/functions/long-task/async-tasks/{running}/stop", timeout=30).ok
    assert events.wait_for("long-task", running) == "Stopped"


def test_a_killed_container_ends_its_task(served: EmulatorProcess, events: TaskWatcher,
                                          docker_client: docker.DockerClient) -> None:
    task_id = _invoke(served, "long-task")
    events.wait_for("long-task", task_id, "Running")
    instance = _task(served, "long-task", task_id)["instanceId"]
    docker_client.containers.get(instance).kill()
    # Its run fails and is retried on a new instance, which the stop then ends.
    events.wait_until(lambda: events.seen[f"long-task/{task_id}"].count("Running") >= 2, timeout=60)
    requests.put(f"{served.url}/2023-03-30/functions/long-task/async-tasks/{task_id}/stop", timeout=30)
    assert events.wait_for("long-task", task_id) in FINAL


def test_a_timer_trigger_fires(served: EmulatorProcess, events: TaskWatcher) -> None:
    url = f"{served.url}/2023-03-30/functions/echo/triggers"
    name = f"tick{uuid.uuid4().hex[:6]}"
    config = json.dumps({"cronExpression": "@every 1s", "enable": True, "payload": name})
    reply = requests.post(url, json={"triggerName": name, "triggerType": "timer", "triggerConfig": config},
                          timeout=30)
    assert reply.status_code == 200, reply.text
    try:
        events.wait_until(lambda: any(member.startswith(f"echo/timer-{name}-") and "Succeeded" in seen
                                      for member, seen in events.seen.items()), timeout=30)
    finally:
        requests.delete(f"{url}/{name}", timeout=30)


def test_a_killed_dispatcher_loses_nothing_and_every_shard_is_claimed(
    own_backend: Backend, functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """Tasks spread over every shard (and, on the cluster, over every master); a dispatcher killed mid-run
    loses none: the next one's reaper gives its leases back, and it claims from every shard."""
    backend = own_backend
    prefix = f"k{uuid.uuid4().hex[:6]}"
    # Four tasks on each shard, chosen by the shard their id falls in (24 random ids miss one about 7 % of runs).
    by_shard: dict[int, list[str]] = {shard: [] for shard in range(SHARDS)}
    for index in itertools.count():
        task_id = f"{prefix}_{index}"
        chosen = by_shard[zlib.crc32(f"hello/{task_id}".encode()) % SHARDS]
        if len(chosen) < 4:
            chosen.append(task_id)
        if all(len(chosen) == 4 for chosen in by_shard.values()):
            break
    ids = [task_id for chosen in by_shard.values() for task_id in chosen]
    shards = set(by_shard)
    if backend.cluster is not None:
        with backend.cluster.client() as client:
            masters = {backend.cluster.node_of_slot(client.keyslot(ShardKeys(shard).inflight)) for shard in shards}
        assert masters == {node.port for node in backend.cluster.nodes}, "the shards span every master"
    settings = {"lease_s": "1.5", "max_instances_per_function": "2", "queue_shards": str(SHARDS)}
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=backend.url, dispatcher_enabled="false",
                          queue_shards=str(SHARDS)).start()
    owner = f"kill-{backend.kind}-{uuid.uuid4().hex[:4]}"
    first = EmulatorProcess(functions_dir, tmp_path / "d1.log", redis_url=backend.url, command="dispatcher",
                            owner=owner, **settings).start()
    watcher = TaskWatcher(backend.url)
    try:
        requests.post(v3(api, "long-task"), timeout=30, headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": f"{prefix}_long"})
        watcher.wait_for("long-task", f"{prefix}_long", "Running")
        first.kill()  # holding a running task: only its lease's expiry can give it back
        for task_id in ids:
            reply = requests.post(v3(api, "hello"), data=b"{}", timeout=30, headers={
                "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
            assert reply.status_code == 202, reply.text
        # A container of the API process's own too: the next dispatcher's sweep then reads two owners' keys,
        # which a cluster keeps in different slots.
        assert requests.post(v3(api, "hello"), data=b"{}", timeout=60).status_code == 200
        # Another owner: one of the same name would take the killed one's instance, and its task, back.
        second = EmulatorProcess(functions_dir, tmp_path / "d2.log", redis_url=backend.url, command="dispatcher",
                                 owner=f"{owner}-2", **settings).start()
        try:
            second.wait_for_log(f"of owner(s) {owner}-dispatcher, whose process is gone")
            for task_id in ids:
                assert watcher.wait_for("hello", task_id, timeout=120) == "Succeeded"
            # Re-run after its lease expired.
            watcher.wait_until(lambda: watcher.seen[f"long-task/{prefix}_long"].count("Running") == 2, timeout=60)
            requests.put(f"{api.url}/2023-03-30/functions/long-task/async-tasks/{prefix}_long/stop", timeout=30)
            watcher.wait_for("long-task", f"{prefix}_long")
        finally:
            second.stop()
    finally:
        first.kill()
        api.stop()
        watcher.close()
    for container in docker_client.containers.list(all=True, filters={"label": f"fcemu.owner={owner}-dispatcher"}):
        container.remove(force=True)  # the killed dispatcher's (the next start of that owner would sweep them)
    assert owned_containers(docker_client, f"{owner}-2-dispatcher") == []


def test_function_logs_are_followed_and_kept(served: EmulatorProcess, events: TaskWatcher) -> None:
    """The log writer publishes a line only when someone follows (PUBSUB NUMSUB, summed over a cluster's nodes),
    and keeps it by request id."""
    follower = cli(served, "-f")
    try:
        assert follower.stdout is not None and follower.stderr is not None
        assert follower.stderr.readline().startswith("following function logs")
        mark = f"m{uuid.uuid4().hex[:10]}"
        task_id = _invoke(served, "log-printer", json.dumps({"marker": mark, "sleep": 25}).encode())
        for line in follower.stdout:
            if line.rstrip("\n").endswith(f": working {mark}"):
                break
        assert requests.put(f"{served.url}/2023-03-30/functions/log-printer/async-tasks/{task_id}/stop",
                            timeout=30).ok
        assert events.wait_for("log-printer", task_id) == "Stopped"
    finally:
        follower.terminate()
        follower.communicate(timeout=30)
    request_id = _task(served, "log-printer", task_id)["requestId"]
    kept = requests.get(f"{served.url}/_fcemu/logs", params={"requestId": request_id}, timeout=30).text
    assert f"working {mark}" in kept


def test_clock_queue_view_and_metrics_read_every_shard(served: EmulatorProcess, events: TaskWatcher) -> None:
    """The reads that span shards (the console's queue view, the metrics' queue depth, Redis's clock) on both."""
    task_id = _invoke(served, "hello", **{"x-fc-async-delay": "3600"})
    events.wait_for("hello", task_id, "Enqueued")
    try:
        clock = requests.get(f"{served.url}/_fcemu/clock", timeout=30)
        assert clock.status_code == 200, clock.text
        queue = requests.get(f"{served.url}/_fcemu/functions/hello/queue", timeout=30)
        assert queue.status_code == 200, queue.text
        assert task_id in queue.text
        metrics = requests.get(f"{served.url}/_fcemu/metrics", timeout=30)
        assert metrics.status_code == 200, metrics.text
        assert any(line.startswith("fcemu_queue_tasks{") and 'function="hello"' in line and 'deferred' in line
                   and not line.endswith(" 0") for line in metrics.text.splitlines()), metrics.text[-2000:]
    finally:
        requests.put(f"{served.url}/2023-03-30/functions/hello/async-tasks/{task_id}/stop", timeout=30)
