"""The mailer against real SMTP servers (aiosmtpd): a temporary refusal is retried, a bounded queue refuses the
overflow, nothing is logged with the address, and the development server inside the site's loop receives and keeps
what the site sends."""

from __future__ import annotations

import asyncio
import logging

from tests.fixtures.smtp import SmtpServer, text_of
from webapp.core.devmail import DevelopmentMailServer
from webapp.core.mail import Mailer, OutgoingMail, recipient_ref
from webapp.core.settings import MailSettings

ADDRESS = "someone@example.org"


def _settings(port: int, **changes: object) -> MailSettings:
    base = MailSettings.given(host="127.0.0.1", port=port, security="none", username=None, password=None,
                        from_address="Dr. Skin <no-reply@drskin.test>", public_url=None, retry_base_s=0.01,
                        timeout_s=10)
    return base.model_copy(update=changes)


async def _drain(mailer: Mailer) -> None:
    for _ in range(3000):
        if not mailer.busy:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the mailer never finished")


async def test_a_temporary_refusal_is_retried_and_the_address_is_not_logged(caplog):
    caplog.set_level(logging.INFO, logger="webapp.core.mail")
    with SmtpServer(refuse_first=2) as server:
        mailer = Mailer(_settings(server.port))
        mailer.start()
        assert mailer.submit(OutgoingMail(to=ADDRESS, subject="Hello", text="Body ✓"))
        await _drain(mailer)
        await mailer.aclose()
        (message,) = await asyncio.to_thread(server.wait_for, 1)
    assert server.handler.refused == 2 and mailer.sent == 1 and mailer.failed == 0
    assert text_of(message).strip() == "Body ✓"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ADDRESS not in logged and recipient_ref(ADDRESS) in logged and "attempt 2 failed" in logged


async def test_gives_up_after_its_attempts():
    with SmtpServer(refuse_first=10) as server:
        mailer = Mailer(_settings(server.port, attempts=3))
        mailer.start()
        mailer.submit(OutgoingMail(to=ADDRESS, subject="Hello", text="Body"))
        await _drain(mailer)
        await mailer.aclose()
    assert server.handler.refused == 3 and mailer.failed == 1 and server.messages == []


async def test_the_queue_is_bounded():
    mailer = Mailer(_settings(1, queue_size=2))  # not started: nothing leaves the queue
    mails = [OutgoingMail(to=ADDRESS, subject=str(n), text="x") for n in range(3)]
    assert [mailer.submit(mail) for mail in mails] == [True, True, False]


async def test_a_job_that_composes_nothing_sends_nothing():
    with SmtpServer() as server:
        mailer = Mailer(_settings(server.port))
        mailer.start()

        async def nothing() -> None:
            return None

        mailer.submit(nothing)
        await _drain(mailer)
        await mailer.aclose()
    assert server.messages == [] and mailer.sent == 0


async def test_the_development_server_receives_in_the_same_process(caplog):
    caplog.set_level(logging.WARNING, logger="webapp.core.devmail")
    server = DevelopmentMailServer()
    await server.start()
    try:
        mailer = Mailer(server.settings_for(_settings(1, security="starttls", username="u", password="p")))
        mailer.start()
        mailer.submit(OutgoingMail(to=ADDRESS, subject="Reset", text="http://127.0.0.1/password/reset/abc"))
        await _drain(mailer)
        await mailer.aclose()
    finally:
        await server.aclose()
    (mail,) = server.inbox.mails
    assert mail.subject == "Reset" and "password/reset/abc" in mail.text and mail.to == ADDRESS
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "password/reset/abc" in logged and ADDRESS not in logged  # the link is readable in the log, not the address
