"""An anonymous result kept for 30 minutes, only when the person asks for it, so that creating an account (or
logging in) right after can save it.

Without the tick on the upload form nothing of an anonymous diagnosis is written anywhere. With it, the cleaned
photo and the service's answer wait in the database store ``pending_results`` under a random token for
``PENDING_TTL_S``; the token travels in an HttpOnly cookie of the same lifetime. Creating an account in that browser
while the cookie and the entry live saves the result as the account's first diagnosis and deletes the entry. Expired
entries are deleted whenever one is kept or claimed (the store itself only hides them).
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.stores.base import Store
from sqlalchemy import delete

from webapp.core.diagnosis_result import DiagnosisResult, UnreadableResult, load_result
from webapp.core.images import CleanPhoto
from webapp.core.settings import get_security_settings
from webapp.db.models import KeyValueItem

STORE = "pending_results"
COOKIE = "drskin_pending"
PENDING_TTL_S = 30 * 60


def _store(request: Request[Any, Any, Any]) -> Store:
    return request.app.stores.get(STORE)


async def _purge_expired(request: Request[Any, Any, Any]) -> None:
    """Delete every kept result past its 30 minutes (photos must not linger after the promise to forget them)."""
    engine = request.app.state.alchemy_config.get_engine()
    async with engine.begin() as connection:
        await connection.execute(delete(KeyValueItem).where(KeyValueItem.namespace == STORE,
                                                            KeyValueItem.expires_at < datetime.now(UTC)))


async def keep(request: Request[Any, Any, Any], photo: CleanPhoto, result: DiagnosisResult) -> Cookie:
    """Keep the result for ``PENDING_TTL_S`` (replacing one this browser kept before); the cookie to set."""
    await _purge_expired(request)
    store = _store(request)
    previous = request.cookies.get(COOKIE)
    if previous:
        await store.delete(previous)
    token = secrets.token_urlsafe(32)
    payload = {"jpeg": base64.b64encode(photo.jpeg).decode("ascii"), "width": photo.width, "height": photo.height,
               "result": result.stored()}
    await store.set(token, json.dumps(payload).encode(), expires_in=PENDING_TTL_S)
    return Cookie(key=COOKIE, value=token, max_age=PENDING_TTL_S, httponly=True, samesite="lax", path="/",
                  secure=get_security_settings().secure_cookies)


async def peek(request: Request[Any, Any, Any]) -> tuple[CleanPhoto, DiagnosisResult] | None:
    """The kept photo and result named by the request's cookie (still kept: ``forget`` after saving it); None
    when there is none (no cookie, expired, already claimed)."""
    await _purge_expired(request)
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    raw = await _store(request).get(token)
    if raw is None:
        return None
    try:
        payload = json.loads(raw)
        photo = CleanPhoto(base64.b64decode(payload["jpeg"]), int(payload["width"]), int(payload["height"]))
        result = load_result(payload["result"])
    except (ValueError, KeyError, TypeError, UnreadableResult):
        return None
    return photo, result


async def forget(request: Request[Any, Any, Any]) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await _store(request).delete(token)


def forget_cookie() -> Cookie:
    return Cookie(key=COOKIE, value="", max_age=0, httponly=True, samesite="lax", path="/",
                  secure=get_security_settings().secure_cookies)
