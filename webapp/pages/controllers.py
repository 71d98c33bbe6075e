"""Home page and health checks."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Response, Template
from sqlalchemy import text

from webapp.accounts.dependencies import provide_current_user
from webapp.db.models import User
from webapp.diagnoses.dependencies import provide_lesion_service
from webapp.lesions.services import LesionService
from webapp.pages.about import about_context
from webapp.pages.context import home_context

log = logging.getLogger(__name__)


class HomeController(Controller):
    dependencies = {"current_user": Provide(provide_current_user), "lesions": Provide(provide_lesion_service)}  # noqa: RUF012 (Litestar reads these class attributes)

    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any], current_user: User | None,
                   lesions: LesionService) -> Template:
        return Template("pages/home.html", context=await home_context(request, current_user, lesions))


class HealthController(Controller):
    path = "/health"
    opt = {"skip_session": True}  # noqa: RUF012 (Litestar reads these class attributes)

    @get("/live")
    async def live(self) -> dict[str, str]:
        """The process answers; never touches the database (a DB outage must not restart every replica)."""
        return {"status": "ok"}

    @get("/ready")
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        """Ready = the site's own database answers. The analysis service's state is a detail (``checks.service``,
        ``degraded``), never a reason to take the site out of its load balancer: with the service down a person
        still gets the site's own "analysis unavailable" page, their history, lesions and the community."""
        checks: dict[str, str] = {}
        try:
            async with state.alchemy_config.get_engine().connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            log.warning("readiness: database down: %r", exc)
            checks["database"] = "down"
        checks["service"] = await state.service_client.readiness()
        down = ["database"] if checks["database"] != "ok" else []
        body: dict[str, Any] = {"status": "ok" if not down else "unavailable", "checks": checks}
        if down:
            body["down"] = down
        if checks["service"] != "ok":
            body["degraded"] = ["service"]
        return Response(body, status_code=503 if down else 200)


class AboutController(Controller):
    """What Dr. Skin is and is not, how the served models were trained and evaluated, and how photos are handled."""

    @get("/about", name="about")
    async def about(self, state: State) -> Template:
        # The model facts come from the service's /info (cached by the client); the page renders without them.
        return Template("pages/about.html", context=await about_context(state.service_client))
