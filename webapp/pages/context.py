"""What the home page needs (shared with the diagnosis POST, which re-renders it on errors)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request

from webapp.core.body_sites import body_site_choices
from webapp.core.service_client import ServiceClient, ServiceUnavailable
from webapp.core.settings import get_upload_settings
from webapp.core.timezones import request_time_zone
from webapp.db.models import User
from webapp.diagnoses.wording import SPOT_QUESTIONS
from webapp.lesions.services import LesionService


async def _service_state(request: Request[Any, Any, Any]) -> tuple[bool, bool]:
    """(a model answering now was trained on synthetic images, the service is unavailable), from the service's
    cached /info and the client's not-answering window; a service outage never blocks the home page."""
    client: ServiceClient | None = getattr(request.app.state, "service_client", None)
    if client is None:
        return False, False
    try:
        info = await asyncio.wait_for(client.info(), timeout=2.0)  # the home page never waits on a hung service
    except (ServiceUnavailable, TimeoutError):
        return False, True
    return info.synthetic, client.stalled


async def home_context(request: Request[Any, Any, Any], user: User | None, lesions: LesionService) -> dict[str, Any]:
    owned = await lesions.list_owned(user.id) if user else []
    demo_models, service_down = await _service_state(request)
    return {
        "demo_models": demo_models,
        "service_down": service_down,
        "max_upload_mb": get_upload_settings().max_upload_mb,
        "logged_in": user is not None,
        "lesions": owned,
        "rechecks_due": [item for item in await lesions.rechecks(user.id, lesions=owned,
                                                                   zone=request_time_zone(request)) if item.is_due]
        if user else [],
        "body_sites": body_site_choices(),
        # what the account gives the classifier (skin_models.context), to say so beside the upload form
        "about_given": bool(user and (user.birth_year or user.sex)),
        "spot_questions": SPOT_QUESTIONS,  # the person's own account of the spot (optional)
        "error": None,
    }
