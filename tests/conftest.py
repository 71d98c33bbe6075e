"""Shared fixtures. Environment is set here, before any application module is imported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DRSKIN_ENV", "test")
# Keep torch and friends from fighting over the two cores when several processes run.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Spinning OpenMP threads starve the other processes a test starts (bentoml serve, the site, Chromium).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.stores", "tests.fixtures.service", "tests.fixtures.smtp"]

# What a test needs, as a marker on every test (``pytest -m unit`` runs in seconds with nothing started):
# ``browser`` drives Chromium (tests/browser); ``integration`` needs a real part started for it — a database (SQLite
# file or the throwaway PostgreSQL), ``bentoml serve``, the site under a test client, a subprocess or the chart's
# tools; ``unit`` is the rest: pure functions and in-process objects.
_INTEGRATION_FIXTURES = frozenset({"db_url", "site_env", "make_app", "app", "client", "postgres_server", "postgres_url",
                                   "fresh_postgres_url", "bento_server", "bento_service_url", "tiny_bentoml_home",
                                   "service_url", "service_client"})
_INTEGRATION_FOLDERS = frozenset({"integration", "service", "deploy", "shared_data"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folders = set(Path(str(item.fspath)).relative_to(Path(__file__).parent).parts[:-1])
        if "browser" in folders:
            item.add_marker(pytest.mark.browser)
        elif folders & _INTEGRATION_FOLDERS or _INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
