"""The site with the community mounted, until ``webapp.app.create_app`` registers it itself.

``create_app_with_community`` is idempotent: when ``create_app()`` already serves ``/community`` (the lead added
``*COMMUNITY_ROUTE_HANDLERS`` to its route handlers) nothing is registered twice.
``uvicorn webapp.community.app:create_app_with_community --factory`` serves the whole site.
"""

from __future__ import annotations

from litestar import Litestar

from webapp.community.controllers import COMMUNITY_ROUTE_HANDLERS


def has_community(app: Litestar) -> bool:
    return any(route.path == "/community" or route.path.startswith("/community/") for route in app.routes)


def register_community(app: Litestar) -> Litestar:
    if not has_community(app):
        for handler in COMMUNITY_ROUTE_HANDLERS:
            app.register(handler)
    return app


def create_app_with_community() -> Litestar:
    from webapp.app import create_app

    return register_community(create_app())
