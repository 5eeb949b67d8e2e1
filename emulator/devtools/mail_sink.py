"""A minimal SMTP sink: accepts every mail, keeps it in memory and prints it. For `send-email` and tests."""
from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class MailSink:
    def __init__(self, on_mail: Callable[[ReceivedMail], None] | None = None) -> None:
        self.received: list[ReceivedMail] = []
        self._on_mail = on_mail
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._session, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def wait_for(self, count: int, timeout: float) -> list[ReceivedMail]:
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received[:count]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender = ""
        recipients: list[str] = []
        writer.write(b"220 fcemu mail sink\r\n")
        try:
            while line := await reader.readline():
                command = line.decode(errors="replace").strip()
                verb = command[:4].upper()
                if verb in ("HELO", "EHLO"):
                    writer.write(b"250 fcemu\r\n")
                elif verb == "MAIL":
                    sender, recipients = command.partition(":")[2].strip(" <>"), []
                    writer.write(b"250 OK\r\n")
                elif verb == "RCPT":
                    recipients.append(command.partition(":")[2].strip(" <>"))
                    writer.write(b"250 OK\r\n")
                elif verb == "DATA":
                    writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                    data = await reader.readuntil(b"\r\n.\r\n")
                    await self._store(sender, recipients, data[:-5].replace(b"\r\n..", b"\r\n."))
                    writer.write(b"250 OK queued\r\n")
                elif verb == "QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        finally:
            writer.close()

    async def _store(self, sender: str, recipients: list[str], data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        mail = ReceivedMail(sender, recipients, message)
        async with self._arrived:
            self.received.append(mail)
            self._arrived.notify_all()
        if self._on_mail is not None:
            self._on_mail(mail)


def print_mail(mail: ReceivedMail) -> None:
    print(f"--- mail from {mail.sender} to {', '.join(mail.recipients)}: {mail.message['Subject']}")
    body = mail.message.get_body()
    print(body.get_content() if body is not None else "")


async def serve_forever(host: str, port: int) -> None:
    sink = MailSink(on_mail=print_mail)
    bound = await sink.start(host, port)
    print(f"mail sink listening on {host}:{bound}")
    await asyncio.Event().wait()
