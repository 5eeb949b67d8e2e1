"""Where the instances reach FC's API: two listening sockets on the host's address on the instances' network (its
gateway), one for HTTP and one for HTTPS, and how an instance is pointed at them.

The gateway address is the host's, but only the network's containers route to it: the host's other networks do
not reach it, and a process of the host that connects to it comes from the gateway address itself, which
`is_instance` refuses (so the endpoint serves instances, never the host or its LAN). Inside each instance a
relay of fcemu's agents listens on 127.0.0.1:80 and :443 and FC's endpoint names resolve to 127.0.0.1 (the
container's /etc/hosts), so an SDK's `https://<account>.<region>-internal.fc.aliyuncs.com` arrives here
unchanged; TLS ends in the emulator, which alone holds the key.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from emulator.fc_endpoint.authority import TlsFiles

# The environment variable fcemu's agents read to relay FC's ports: "80=<address>:<port>,443=<address>:<port>".
RELAY_VARIABLE = "FCEMU_FC_RELAY"
HTTP_PORT = 80
HTTPS_PORT = 443
# Where the trust files are mounted in an instance. The bundle replaces the OS store's file (which fcemu's images
# lack, and which a custom runtime's OpenSSL reads), holding the public roots and fcemu's authority.
OS_TRUST_STORE = "/etc/ssl/certs/ca-certificates.crt"
AUTHORITY_IN_INSTANCE = "/etc/fcemu/ca.crt"


@dataclass(frozen=True)
class FcEndpoint:
    names: tuple[str, ...]
    address: str  # the gateway
    subnet: str
    http_port: int
    https_port: int
    tls: TlsFiles

    def is_instance(self, client: str) -> bool:
        """Whether a connection's peer address is an instance's: inside the network's subnet, and not the host's
        own address on it."""
        try:
            peer = ipaddress.ip_address(client)
        except ValueError:
            return False
        return peer in ipaddress.ip_network(self.subnet) and str(peer) != self.address

    def relay(self) -> str:
        return f"{HTTP_PORT}={self.address}:{self.http_port},{HTTPS_PORT}={self.address}:{self.https_port}"

    def environment(self) -> dict[str, str]:
        """What an instance needs to call FC's API by its names: where its relay sends them, and which roots its
        TLS clients trust (OpenSSL's and python's from SSL_CERT_FILE, requests' from REQUESTS_CA_BUNDLE, Node.js's
        own roots plus NODE_EXTRA_CA_CERTS)."""
        return {
            RELAY_VARIABLE: self.relay(),
            "SSL_CERT_FILE": OS_TRUST_STORE,
            "REQUESTS_CA_BUNDLE": OS_TRUST_STORE,
            "NODE_EXTRA_CA_CERTS": AUTHORITY_IN_INSTANCE,
        }

    def mounts(self) -> dict[str, str]:
        """Host file -> instance path, read-only."""
        return {str(self.tls.trust_bundle): OS_TRUST_STORE, str(self.tls.authority): AUTHORITY_IN_INSTANCE}

    def hosts(self) -> dict[str, str]:
        return {name: "127.0.0.1" for name in self.names}


def listening_socket(address: str) -> socket.socket:
    """A socket listening on a free port of `address`, for uvicorn to serve."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, 0))
        listener.listen(128)
        listener.set_inheritable(True)
    except OSError:
        listener.close()
        raise
    return listener
