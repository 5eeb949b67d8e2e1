"""From inside an instance: tries to reach other instances (their agents, their debuggers), calls an agent's
/invoke without a secret where one answers, reaches the host, and reports whether the agent's secret is in this
instance's environment (its own or a child process's)."""
import http.client
import json
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

# How long a connection may take: a dropped packet (a network that forbids it) never answers.
CONNECT_TIMEOUT_S = 2


def connect(address):
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return "connected"
    except TimeoutError:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError as error:
        return f"error: {error}"


def invoke_without_secret(address):
    """POST /invoke naming a handler of this probe's choice, as a neighbour would."""
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
    try:
        connection.request("POST", "/invoke", body=b"from a neighbour",
                           headers={"x-fc-function-handler": "builtins.print", "x-fc-request-id": "neighbour-call"})
        reply = connection.getresponse()
        return {"status": reply.status, "body": reply.read().decode(errors="replace")}
    except OSError as error:
        return {"error": type(error).__name__}
    finally:
        connection.close()


def greeting(address):
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as connection:
            return connection.recv(64).decode()
    except OSError as error:
        return f"error: {error}"


def handler(event, context):
    request = json.loads(event)
    with ThreadPoolExecutor(8) as pool:
        connects = list(pool.map(connect, request.get("connect", [])))
        invokes = list(pool.map(invoke_without_secret, request.get("invoke", [])))
        greetings = list(pool.map(greeting, request.get("greet", [])))
    child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
    return json.dumps({
        "connect": connects,
        "invoke": invokes,
        "greet": greetings,
        "secretInEnviron": [name for name in os.environ if "FCEMU" in name],
        "secretInChild": [line.split("=")[0] for line in child.splitlines() if "FCEMU" in line],
    })
