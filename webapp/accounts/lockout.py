"""Wrong passwords are counted per account, so that guessing one account's password from many addresses is
stopped too (the site's per-address limit on login requests stops one address guessing many).

After ``max_failures`` wrong passwords for an account within ``window_s``, log-ins to it are refused — the right
password too, without checking it — until the oldest of those failures is older than the window; the page says
how long to wait and the response carries ``Retry-After``. A successful log-in clears the count. The counts live in
the site's database store (the ``rate_limit`` namespace, shared by all replicas). Settings:
``DRSKIN_LOGIN_MAX_FAILURES`` (default 10; 0 turns the lock off) and ``DRSKIN_LOGIN_LOCK_MINUTES`` (15).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from litestar.stores.base import Store


@dataclass(frozen=True)
class AccountLockout:
    store: Store
    max_failures: int = 10
    window_s: int = 15 * 60

    @staticmethod
    def _key(email: str) -> str:
        return f"login-account::{email.strip().lower()}"

    async def _failures(self, email: str, now: float) -> list[float]:
        raw = await self.store.get(self._key(email))
        try:
            stamps = [float(t) for t in json.loads(raw or b"[]")]
        except (ValueError, TypeError):
            stamps = []
        return [t for t in stamps if now - t < self.window_s]

    async def retry_after(self, email: str) -> int | None:
        """Seconds until the account can be tried again, or None when it is not locked."""
        if self.max_failures <= 0:
            return None
        now = time.time()
        failures = await self._failures(email, now)
        if len(failures) < self.max_failures:
            return None
        return max(1, int(failures[-self.max_failures] + self.window_s - now) + 1)

    async def failed(self, email: str) -> None:
        if self.max_failures <= 0:
            return
        now = time.time()
        failures = [*await self._failures(email, now), now][-self.max_failures:]
        await self.store.set(self._key(email), json.dumps(failures), expires_in=self.window_s)

    async def succeeded(self, email: str) -> None:
        await self.store.delete(self._key(email))
