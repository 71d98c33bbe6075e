"""Getting back into an account: "forgot your password" → a mail with a single-use link → a new password.

- The answer to "send me a link" is the same, and takes the same time, whether or not the address has an account:
  the handler only queues a job (``reset_job``) for the mailer (``webapp.core.mail``); looking the address up,
  making the token and writing the mail happen there, off the request path.
- A token is 256 random bits (``secrets.token_urlsafe(32)``); the database keeps only its SHA-256. It works for
  ``DRSKIN_RESET_TOKEN_MINUTES`` (30; 15-60), once: using it, asking for a newer one and changing the password
  delete the account's tokens.
- Setting the new password follows the sign-up rules, raises the account's session generation (every other session
  ends at its next request) and clears the account's log-in lock (``webapp.accounts.lockout``), so that the owner
  gets in even while someone keeps the account locked with wrong passwords.
- At most ``DRSKIN_RESET_PER_ADDRESS_HOUR`` (3) mails per address per hour (counted in the job, so the limit cannot
  tell anyone whether the address has an account); the per-client limit is the site's ``reset`` rate limit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.accounts.schemas import normalise_email
from webapp.core.i18n import gettext, normalize
from webapp.core.mail import Compose, OutgoingMail
from webapp.core.passwords import hash_password
from webapp.db.models import PasswordResetToken, User

TOKEN_BYTES = 32  # 256 bits: not guessable, and a hash of it is all the database keeps


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the database keeps of a token (SHA-256, hex): enough to find it, useless to use it."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, user: User, minutes: int, now: datetime | None = None) -> str:
    """A new reset token for ``user``; the account's older ones stop working."""
    now = now or datetime.now(UTC)
    await forget_tokens(session, user.id)
    token = new_token()
    session.add(PasswordResetToken(user_id=user.id, token_hash=token_digest(token),
                                   expires_at=now + timedelta(minutes=minutes)))
    await session.flush()
    return token


async def forget_tokens(session: AsyncSession, user_id: object) -> None:
    """Every reset link of the account stops working (used, superseded, or the password changed)."""
    await session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user_id))


async def user_for_token(session: AsyncSession, token: str, now: datetime | None = None) -> User | None:
    """The account a token resets, or None when it is unknown, used, superseded or expired."""
    if not token or len(token) > 128:
        return None
    now = now or datetime.now(UTC)
    row = await session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token)))
    if row is None or row.expires_at <= now:
        return None
    return await session.get(User, row.user_id)


async def set_new_password(session: AsyncSession, user: User, password: str) -> None:
    """The new password; the account's reset links end, and so does every session started before."""
    user.password_hash = hash_password(password)
    user.session_generation = (user.session_generation or 0) + 1
    await forget_tokens(session, user.id)
    await session.flush()


class AddressLimit:
    """Reset mails per address per hour, in the site's shared store (the ``rate_limit`` namespace)."""

    def __init__(self, store: Store, per_hour: int) -> None:
        self.store = store
        self.per_hour = per_hour

    @staticmethod
    def _key(email: str) -> str:
        return "reset-address::" + hashlib.sha256(normalise_email(email).encode()).hexdigest()

    async def allow(self, email: str) -> bool:
        """Count one mail to ``email``; False when the hour's allowance is spent (0: no limit)."""
        if self.per_hour <= 0:
            return True
        now = time.time()
        raw = await self.store.get(self._key(email))
        try:
            stamps = [float(t) for t in json.loads(raw or b"[]") if now - float(t) < 3600]
        except (ValueError, TypeError):
            stamps = []
        if len(stamps) >= self.per_hour:
            return False
        await self.store.set(self._key(email), json.dumps([*stamps, now]), expires_in=3600)
        return True


def reset_mail(language: str, to: str, link: str, minutes: int) -> OutgoingMail:
    subject = gettext(language, "Reset your Dr. Skin password")
    text = "\n\n".join([
        gettext(language, "Someone (we hope you) asked to reset the password of the Dr. Skin account of this address."),
        gettext(language, "Open this link to choose a new password. It works once, for %(num)d minutes:", num=minutes),
        link,
        gettext(language, "Setting a new password logs out every other device and lifts a log-in pause."),
        gettext(language, "If you did not ask for this, ignore this mail: your password stays as it is."),
    ]) + "\n"
    return OutgoingMail(to=to, subject=subject, text=text, language=language)


def reset_job(sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]], limit: AddressLimit, email: str,
              language: str, site_url: str, minutes: int) -> Compose:
    """The mailer's job for one "forgot your password" request: nothing for an unknown address or past the address's
    hourly allowance; otherwise a new token (committed) and its mail, in the account's language."""
    address = normalise_email(email)

    async def compose() -> OutgoingMail | None:
        async with sessions() as session:
            user = await session.scalar(select(User).where(User.email == address))
            if user is None or not await limit.allow(address):
                return None
            token = await issue_token(session, user, minutes)
            await session.commit()
            return reset_mail(normalize(user.language) or language, user.email,
                              f"{site_url.rstrip('/')}/password/reset/{token}", minutes)

    return compose
