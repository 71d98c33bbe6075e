"""The application factory: ``uvicorn webapp.app:create_app --factory``.

Building the app reads settings and wires plugins; it does not connect to the database or the service.
Migrations are never run here (``python -m webapp migrate`` does it; the Helm chart runs it as a Job).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from advanced_alchemy.extensions.litestar.store import SQLAlchemyStore
from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig

from webapp.accounts.controllers import AccountController, AuthController, PasswordResetController
from webapp.community.controllers import COMMUNITY_ROUTE_HANDLERS
from webapp.core.devmail import DevelopmentMailController, DevelopmentMailServer
from webapp.core.errors import http_exception_handler, internal_error_handler, not_authorized_handler, refuse_null_bytes
from webapp.core.forgery import check_request_origin
from webapp.core.guards import SESSION_EMAIL
from webapp.core.headers import add_security_headers
from webapp.core.i18n import install_jinja, language_middleware, remember_language_hook
from webapp.core.labels import LABELS, triage_label
from webapp.core.mail import Mailer
from webapp.core.numbers import honest_percent
from webapp.core.redaction import install_token_redaction
from webapp.core.service_client import ServiceClient
from webapp.core.sessions import BestEffortStore, DatabaseSessionConfig
from webapp.core.settings import (
    get_mail_settings,
    get_rate_limit_settings,
    get_security_settings,
    get_service_settings,
    get_upload_settings,
)
from webapp.core.timezones import install_jinja as install_time_jinja
from webapp.db.config import build_alchemy_config
from webapp.db.models import KeyValueItem
from webapp.diagnoses.controllers import DiagnoseController, DiagnosisController, PhotoController
from webapp.diseases.controllers import DiseaseController
from webapp.lesions.bodymap import picker_map
from webapp.lesions.controllers import LesionController
from webapp.pages.controllers import AboutController, HealthController, HomeController
from webapp.reports.controllers import ReportController
from webapp.sharing.controllers import SharedController, ShareOwnerController

PACKAGE_DIR = Path(__file__).resolve().parent


def _rate_limit(kind: str, per_minute: int) -> RateLimitConfig:
    """POSTs to handlers marked ``opt={"rate_limit": kind}``, per client IP and route.

    Counters live in the database store, so the limit holds across replicas (approximately: the read-then-write is
    not atomic, which only lets a burst of simultaneous requests slip a few over).
    """

    def applies(request: Request[Any, Any, Any]) -> bool:
        return request.method == "POST" and request.route_handler.opt.get("rate_limit") == kind

    def identifier(request: Request[Any, Any, Any]) -> str:
        # Litestar keys counters on the identifier alone: without the kind, logins, sign-ups and diagnoses from one
        # address would all eat into the same (smallest) limit.
        return f"{kind}::{get_remote_address(request)}"

    return RateLimitConfig(rate_limit=("minute", per_minute), check_throttle_handler=applies,
                           identifier_for_request=identifier, exclude=["/static", "/health"])


def _template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        install_jinja(env)  # _(), ngettext(), lang, lang_url() for the current request's language
        install_time_jinja(env)  # the date and day filters: the reader's time zone, named
        env.globals["class_labels"] = LABELS
        env.globals["triage_label"] = triage_label
        env.globals["session_email"] = _session_email
        env.globals["flashes"] = _flashes
        env.globals["max_upload_mb"] = get_upload_settings().max_upload_mb
        env.globals["body_map_picker"] = picker_map  # the body map in the forms that choose a body site
        env.filters["pct"] = lambda value, digits=0: f"{float(value) * 100:.{digits}f} %"
        env.filters["honest_pct"] = honest_percent  # probabilities: "> 99 %" / "< 1 %" at the ends

    return TemplateConfig(directory=PACKAGE_DIR / "templates", engine=JinjaTemplateEngine,
                          engine_callback=configure)


def _session_email(request: Request[Any, Any, Any]) -> str | None:
    try:
        return request.session.get(SESSION_EMAIL)  # type: ignore[no-any-return]
    except Exception:  # no session middleware in scope (static files)
        return None


def _flashes(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    """Pop the flash messages; error pages raised before routing have no session, hence no messages."""
    try:
        return request.session.pop("_messages", [])  # type: ignore[no-any-return]
    except Exception:
        return []


def release_database_session(app: Any) -> Any:
    """Commit (2xx/3xx) or roll back and close the request's database session when the response starts, *inside*
    the session middleware, which then stores the web session through a connection of its own. Done by the app-level
    hook instead (which runs outside every middleware), each request held two pooled connections at once, and 32
    people at once exhausted the pool's 15 and waited 30 s (found by tests/webapp/integration/test_soak.py)."""
    from advanced_alchemy.extensions.litestar.plugins.init.config.asyncio import autocommit_handler_maker

    settle = autocommit_handler_maker(commit_on_redirect=True)

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def settled_send(message: Any) -> None:
            await settle(message, scope)
            await send(message)

        await app(scope, receive, settled_send)

    return middleware


def create_app() -> Litestar:
    """Build the site from the environment (see ``webapp.core.settings`` and docs/site.md)."""
    install_token_redaction()  # reset and share tokens travel in URLs: never into the access log
    security = get_security_settings()
    limits = get_rate_limit_settings()
    upload = get_upload_settings()
    mail = get_mail_settings()
    alchemy = build_alchemy_config()
    store_model = KeyValueItem
    stores: dict[str, Store] = {name: BestEffortStore(alchemy, model=store_model, namespace=name)
                                for name in ("sessions", "rate_limit")}
    stores["pending_results"] = SQLAlchemyStore(alchemy, model=store_model, namespace="pending_results")

    session_config = DatabaseSessionConfig(store="sessions", secure=security.secure_cookies, httponly=True,
                                           samesite="lax", max_age=security.session_max_age_s,
                                           exclude=["/static", "/health"])
    csrf_config = CSRFConfig(secret=security.secret_key, cookie_secure=security.secure_cookies,
                             cookie_httponly=True, cookie_samesite="lax", exclude=["/health"])
    template_config = _template_config()

    middleware: list[Any] = [refuse_null_bytes, language_middleware, session_config.middleware]
    for kind, per_minute in (("login", limits.login_per_minute), ("register", limits.register_per_minute),
                             ("diagnose", limits.diagnose_per_minute), ("reset", limits.reset_per_minute)):
        if per_minute > 0:
            middleware.append(_rate_limit(kind, per_minute).middleware)
    middleware.append(release_database_session)  # innermost: see its docstring

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        client = ServiceClient(get_service_settings())
        app.state.service_client = client
        dev_server = None
        settings = mail
        if mail.development_server:  # make run: the site receives its own mail (webapp.core.devmail)
            dev_server = DevelopmentMailServer()
            await dev_server.start()
            settings = dev_server.settings_for(mail)
        app.state.dev_mail_server = dev_server
        mailer = Mailer(settings)
        mailer.start()
        app.state.mailer = mailer
        try:
            yield
        finally:
            await mailer.aclose()
            if dev_server is not None:
                await dev_server.aclose()
            await client.aclose()

    return Litestar(
        route_handlers=[
            HomeController, HealthController, AboutController, AuthController, AccountController, DiagnoseController,
            DiagnosisController, PhotoController, LesionController, ReportController, DiseaseController,
            PasswordResetController, ShareOwnerController, SharedController,
            *([DevelopmentMailController] if mail.development_server else []),
            *COMMUNITY_ROUTE_HANDLERS,
            create_static_files_router(path="/static", directories=[PACKAGE_DIR / "static"], name="static",
                                       opt={"skip_session": True}),
        ],
        plugins=[SQLAlchemyPlugin(config=alchemy), FlashPlugin(config=FlashConfig(template_config=template_config))],
        template_config=template_config,
        middleware=middleware,
        csrf_config=csrf_config,
        stores=stores,
        state=State({"alchemy_config": alchemy}),
        lifespan=[lifespan],
        before_send=[add_security_headers, remember_language_hook(security.secure_cookies)],
        before_request=check_request_origin,
        exception_handlers={
            NotAuthorizedException: not_authorized_handler,
            HTTPException: http_exception_handler,
            HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
        },
        # Room for the photo plus the multipart envelope; larger bodies get the 413 page.
        request_max_body_size=upload.max_upload_bytes + 1024 * 1024,
        openapi_config=None,
    )
