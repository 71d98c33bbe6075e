"""The site's outgoing mail: a bounded queue in the site's process, one worker that sends through SMTP (aiosmtplib)
with retries, and logs that never carry an address in clear.

Requests never wait for an SMTP server: a handler ``submit``s a job and answers at once. A job is either a ready
``OutgoingMail`` or an async function that composes one (or decides to send nothing) — the password reset does its
database work there, so that its answer takes the same time whether or not the address has an account. A full queue
refuses the job (logged; the person can ask again) instead of growing without bound. A mail that cannot be delivered
after ``attempts`` tries (2 s, 4 s, 8 s apart) is logged and dropped; the SMTP server's permanent refusals (5xx) are
not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from webapp.core.settings import MailSettings, get_mail_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    language: str = "en"


Compose = Callable[[], Awaitable[OutgoingMail | None]]


def recipient_ref(address: str) -> str:
    """What the logs say instead of an address: a short hash an operator can match against a known address."""
    return "rcpt-" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]


def site_url(request: Any) -> str:
    """The site's address for links that leave it (a mail, a link to hand on): ``DRSKIN_PUBLIC_URL``, else the
    request's own (development; production with mail requires the setting)."""
    return get_mail_settings().public_url or str(request.base_url).rstrip("/")


def build_message(mail: OutgoingMail, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = mail.to
    message["Subject"] = mail.subject
    domain = from_address.rpartition("@")[2].strip(" >") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(mail.text)
    message["Content-Language"] = mail.language  # after set_content, which replaces every Content-* header
    return message


def _permanent(exc: BaseException) -> bool:
    """The server refused for good (5xx): trying again sends nothing either."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return True
    code = getattr(exc, "code", None)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and isinstance(code, int) and 500 <= code < 600


class Mailer:
    """One per site process; ``start`` in the app's lifespan, ``aclose`` at shutdown."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._queue: asyncio.Queue[OutgoingMail | Compose] = asyncio.Queue(maxsize=settings.queue_size)
        self._worker: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0
        self._queued = 0  # jobs accepted and jobs finished: plain counters, readable from any thread
        self._finished = 0

    @property
    def configured(self) -> bool:
        return self.settings.host is not None

    def start(self) -> None:
        if not self.configured:
            log.warning("no SMTP server configured (DRSKIN_SMTP_HOST): the site sends no mail")
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="drskin-mailer")

    async def aclose(self, drain_s: float = 5.0) -> None:
        """Give the queue ``drain_s`` to empty, then stop the worker."""
        if self._worker is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=drain_s)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    def submit(self, job: OutgoingMail | Compose) -> bool:
        """Queue a mail (or a function that composes one); False, and logged, when the queue is full."""
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            log.error("mail queue full (%d): a mail was not queued", self.settings.queue_size)
            return False
        self._queued += 1
        return True

    @property
    def busy(self) -> bool:
        """Whether a job is still waiting or being sent."""
        return self._finished < self._queued

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                mail = job if isinstance(job, OutgoingMail) else await job()
                if mail is not None:
                    await self._deliver(mail)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a mail job failed")
            finally:
                self._finished += 1
                self._queue.task_done()

    async def _deliver(self, mail: OutgoingMail) -> None:
        who = recipient_ref(mail.to)
        if not self.configured:
            log.warning("mail to %s not sent (no SMTP server configured): %s", who, mail.subject)
            self.failed += 1
            return
        message = build_message(mail, self.settings.from_address)
        for attempt in range(1, self.settings.attempts + 1):
            try:
                await self._send(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if _permanent(exc) or attempt == self.settings.attempts:
                    log.error("mail to %s not sent after %d attempt(s): %s", who, attempt, type(exc).__name__)
                    self.failed += 1
                    return
                log.warning("mail to %s: attempt %d failed (%s); trying again", who, attempt, type(exc).__name__)
                await asyncio.sleep(self.settings.retry_base_s * 2 ** (attempt - 1))
            else:
                log.info("mail to %s sent: %s", who, mail.subject)
                self.sent += 1
                return

    async def _send(self, message: EmailMessage) -> None:
        security = self.settings.security
        await aiosmtplib.send(
            message, hostname=self.settings.host, port=self.settings.port, username=self.settings.username,
            password=self.settings.password, use_tls=security == "tls", start_tls=security == "starttls",
            timeout=self.settings.timeout_s)
