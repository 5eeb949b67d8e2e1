"""fcemu's relay of FC's endpoint ports inside an instance: FC's endpoint names resolve to 127.0.0.1 here (the
container's /etc/hosts), and this relays 127.0.0.1:80 and :443 to the emulator's listeners for instances, given
in FCEMU_FC_RELAY as "80=<address>:<port>,443=<address>:<port>". Bytes only: TLS ends in the emulator.

Imported by the agent (threads in its process), or run before a custom runtime's command
(`python3 fc_relay.py <command...>`: the relay forks off, then the command replaces this process).
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

RELAY_VARIABLE = "FCEMU_FC_RELAY"
CHUNK = 65536
CONNECT_TIMEOUT_S = 10
ACCEPT_RETRY_S = 0.1


def _routes(value: str) -> list[tuple[int, tuple[str, int]]]:
    routes = []
    for entry in filter(None, (item.strip() for item in value.split(","))):
        port, _, target = entry.partition("=")
        host, _, target_port = target.rpartition(":")
        routes.append((int(port), (host, int(target_port))))
    return routes


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)  # the other side sees the end, and may still answer
        except OSError:
            pass


def _relay(client: socket.socket, target: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(target, timeout=CONNECT_TIMEOUT_S)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    for end in (client, upstream):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _accept(listener: socket.socket, target: tuple[str, int]) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            # Out of descriptors or threads: a pause, not a spin, until the function's own connections close.
            time.sleep(ACCEPT_RETRY_S)
            continue
        try:
            threading.Thread(target=_relay, args=(client, target), daemon=True).start()
        except RuntimeError:  # no thread to be had (the pids limit): this connection is refused, not the next
            client.close()


def start(value: str | None = None) -> int:
    """Listens on each route's port in threads; returns how many listen. A port that cannot be had (the function
    listens there itself) is said once on stderr and skipped. The variable is taken out of the environment: it is
    the relay's, not the function's."""
    listening = 0
    for port, target in _routes(os.environ.pop(RELAY_VARIABLE, "") if value is None else value):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(64)
        except OSError as error:
            listener.close()
            print(f"fcemu: FC's endpoint port {port} is not relayed: {error}", file=sys.stderr, flush=True)
            continue
        threading.Thread(target=_accept, args=(listener, target), daemon=True).start()
        listening += 1
    return listening


def main(command: list[str]) -> None:
    routes = os.environ.pop(RELAY_VARIABLE, "")
    if routes and os.fork() == 0:
        if start(routes):
            threading.Event().wait()
        os._exit(0)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
