"""The example Serverless Devs project (functions/orders-project/s.yaml), served as `make up TEMPLATE=...` serves it:
its python HTTP function prices an order with the project's layer, its nodejs worker books one asynchronously and
its success reaches the python function subscribed to the MNS topic named by the worker's destination."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.async_tasks import invoke_task, task
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

PROJECT = REPO / "functions" / "orders-project"


@pytest.fixture
def orders(tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    # A Redis of its own: the suite's shared emulator, on the shared Redis, would claim the worker's destination
    # delivery and publish to the topic without knowing the project's subscriber.
    empty = tmp_path / "functions"
    empty.mkdir()
    process = EmulatorProcess(empty, tmp_path / "fcemu.log", redis_url=own_redis.url,
                              template=str(PROJECT / "s.yaml")).start()
    yield process
    process.stop()


def test_the_http_function_prices_an_order_with_the_layer(orders: EmulatorProcess) -> None:
    order = {"items": [{"sku": "tea", "quantity": 2}, {"sku": "cake"}]}
    reply = requests.post(f"{orders.url}/http/orders-api/orders", json=order, timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json()["total"] == 2 * 300 + 450 and reply.json()["currency"] == "CNY"
    bad = requests.post(f"{orders.url}/http/orders-api/orders", json={"items": [{"sku": "gold"}]}, timeout=60)
    assert bad.status_code == 400 and "not an order" in bad.json()["error"]


def test_a_booked_order_reaches_the_topic_subscriber(orders: EmulatorProcess, own_redis: RedisServer) -> None:
    watcher = TaskWatcher(own_redis.url)
    http = requests.Session()
    try:
        task_id = invoke_task(http, orders, "orders-worker",
                              json.dumps({"id": "o-1", "items": [{"sku": "coffee", "quantity": 3}]}).encode())
        assert watcher.wait_for("orders-worker", task_id, "DestinationSucceeded")
        assert json.loads(task(http, orders, "orders-worker", task_id)["returnPayload"])["total"] == 3 * 380
        # The topic's subscriber was submitted before the delivery counted as done.
        [notified] = http.get(f"{orders.url}/2023-03-30/functions/orders-notify/async-tasks").json()["tasks"]
        assert watcher.wait_for("orders-notify", notified["taskId"]) == "Succeeded"
        assert json.loads(task(http, orders, "orders-notify", notified["taskId"])["returnPayload"]) == {
            "notified": "o-1"}
    finally:
        watcher.close()
        http.close()


def test_a_failed_order_goes_to_the_failure_queue_and_the_timer_is_configured(
    orders: EmulatorProcess, own_redis: RedisServer
) -> None:
    watcher = TaskWatcher(own_redis.url)
    http = requests.Session()
    try:
        task_id = invoke_task(http, orders, "orders-worker", json.dumps({"id": "o-2", "items": []}).encode())
        assert watcher.wait_for("orders-worker", task_id, "DestinationSucceeded")
        assert task(http, orders, "orders-worker", task_id)["status"] == "Failed"
        [message] = http.get(f"{orders.url}/_fcemu/mns/queues/orders-failed/messages").json()["Messages"]
        assert "an order needs items" in message["MessageBody"]
        triggers = http.get(f"{orders.url}/2023-03-30/functions/orders-worker/triggers").json()["triggers"]
        assert [(t["triggerName"], t["triggerType"]) for t in triggers] == [("hourly-report", "timer")]
    finally:
        watcher.close()
        http.close()
