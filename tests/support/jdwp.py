"""A minimal JDWP client (the Java Debug Wire Protocol, what IntelliJ, jdb and VS Code's Java debugger speak): the
handshake and two VirtualMachine commands, enough to prove a debugger can attach to a java instance and see its
classes."""
from __future__ import annotations

import socket
import struct

HANDSHAKE = b"JDWP-Handshake"
REPLY_FLAG = 0x80
VIRTUAL_MACHINE = 1
VERSION, CLASSES_BY_SIGNATURE = 1, 2


class JdwpError(Exception):
    pass


class JdwpClient:
    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=30)  # a guard, not a delay
        self._socket.sendall(HANDSHAKE)
        if self._read(len(HANDSHAKE)) != HANDSHAKE:
            raise JdwpError("no JDWP handshake")
        self._next_id = 0

    def close(self) -> None:
        self._socket.close()

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._socket.recv(size - len(data))
            if not chunk:
                raise JdwpError("the JVM closed the connection")
            data += chunk
        return data

    def command(self, command_set: int, command: int, data: bytes = b"") -> bytes:
        """Sends one command and returns its reply's data; events the JVM sends in between are skipped."""
        self._next_id += 1
        self._socket.sendall(struct.pack(">IIBBB", 11 + len(data), self._next_id, 0, command_set, command) + data)
        while True:
            length, packet_id, flags = struct.unpack(">IIB", self._read(9))
            rest = self._read(length - 9)
            if flags & REPLY_FLAG and packet_id == self._next_id:
                (error,) = struct.unpack(">H", rest[:2])
                if error:
                    raise JdwpError(f"JDWP error {error}")
                return rest[2:]

    def version(self) -> str:
        """VirtualMachine.Version's description ("Java Debug Wire Protocol (Reference Implementation) version...")."""
        reply = self.command(VIRTUAL_MACHINE, VERSION)
        (size,) = struct.unpack(">I", reply[:4])
        return reply[4:4 + size].decode()

    def loaded(self, class_name: str) -> int:
        """How many loaded classes have this name (VirtualMachine.ClassesBySignature)."""
        signature = ("L" + class_name.replace(".", "/") + ";").encode()
        reply = self.command(VIRTUAL_MACHINE, CLASSES_BY_SIGNATURE, struct.pack(">I", len(signature)) + signature)
        (count,) = struct.unpack(">I", reply[:4])
        return count
