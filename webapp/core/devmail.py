"""Development only: an SMTP server (aiosmtpd) inside the site's own process and event loop, so that the mail the
site sends under ``make run`` really travels through SMTP and can be read — in the log and at ``/dev/mail`` —
instead of being dropped. It listens on 127.0.0.1 on a free port and is started only when ``DRSKIN_ENV`` is
``development`` and no ``DRSKIN_SMTP_HOST`` is set; ``/dev/mail`` exists only then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from webapp.core.settings import MailSettings

log = logging.getLogger(__name__)
KEPT = 50  # the newest mails the page shows


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    received_at: datetime
    to: str
    subject: str
    text: str


class _Inbox:
    """aiosmtpd's handler: keeps the newest mails and writes each one to the log."""

    def __init__(self) -> None:
        self.mails: deque[ReceivedMail] = deque(maxlen=KEPT)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        parsed = message_from_bytes(content.encode() if isinstance(content, str) else content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        mail = ReceivedMail(datetime.now(UTC), ", ".join(envelope.rcpt_tos), str(parsed["Subject"] or ""), text)
        self.mails.appendleft(mail)
        # The text carries the link a developer needs; the address stays out of the log like everywhere else.
        log.warning("development mail received (see /dev/mail): %s\n%s", mail.subject, text)
        return "250 Message accepted for delivery"


class DevelopmentMailServer:
    def __init__(self) -> None:
        self.inbox = _Inbox()
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> None:
        # aiosmtpd logs every recipient at INFO ("recip: …"): addresses stay out of the site's log, also here.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self.inbox, hostname="drskin-dev"), "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.warning("development: the site's mail goes to its own SMTP server on 127.0.0.1:%d; read it at /dev/mail",
                    self.port)

    def settings_for(self, settings: MailSettings) -> MailSettings:
        """``settings`` pointed at this server (plain SMTP on the loopback, no login)."""
        return settings.model_copy(update={"host": "127.0.0.1", "port": self.port, "security": "none", "username": None,
                                           "password": None})

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class DevelopmentMailController(Controller):
    path = "/dev/mail"

    @get("/", name="dev_mail")
    async def inbox(self, request: Request[Any, Any, Any]) -> Template:
        server: DevelopmentMailServer | None = getattr(request.app.state, "dev_mail_server", None)
        if server is None:
            raise NotFoundException()
        return Template("pages/dev_mail.html", context={"mails": list(server.inbox.mails)},
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
