"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the email tests and the
scheduler processes: it keeps what it accepts, or refuses as told."""
from __future__ import annotations

from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from tests.support.http import free_port


class Inbox:
    """An SMTP server's handler: keeps what it accepts, or refuses as told."""

    def __init__(self, refuse: str | None = None):
        self.refuse = refuse
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse == "rcpt":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse == "data":
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    """`SmtpServer(refuse=None).start()`: an SMTP server at a free port
    (`.port`) whose handler (`.inbox`) accepts, or refuses at "rcpt" or "data"."""

    def __init__(self, refuse: str | None = None):
        self.inbox = Inbox(refuse)
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
