"""The soak driver for 60 seconds (issue 18; scripts/soak.py runs it for 30 minutes, docs/reliability.md): 32
simulated people at once against the site under uvicorn on a real PostgreSQL and the real ``bentoml serve``. No 5xx,
every acknowledged diagnosis is in the database and opens again, memory does not run away."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.site import running_site
from tests.webapp.conftest import service_url  # noqa: F401  (the real BentoML service)

REPO_ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def soak_site(service_url: str, fresh_postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: F811
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": fresh_postgres_url, "DRSKIN_SERVICE_URL": service_url,
           "DRSKIN_SECRET_KEY": "soak-test-" + "s" * 32, "DRSKIN_RATE_LIMIT_LOGIN": "0",
           "DRSKIN_RATE_LIMIT_REGISTER": "0", "DRSKIN_RATE_LIMIT_DIAGNOSE": "0"}
    with running_site(env, tmp_path) as url:
        yield url, fresh_postgres_url


async def test_32_people_for_a_minute(soak_site: tuple[str, str]) -> None:
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from soak import soak

    from tests.webapp.images import lesion_photo

    url, database_url = soak_site
    photos = [lesion_photo(640, 480, seed=seed) for seed in range(4)]
    report = await soak(url, users=32, seconds=60, database_url=database_url, photos=photos)
    assert report.server_errors == 0, report
    assert report.acknowledged >= 32, report  # every person got at least one result saved
    assert report.found_again == report.acknowledged == report.in_database, report
    assert report.rate_limited == 0 and not report.other_errors, report
    assert {"register", "diagnose", "result", "history"} <= set(report.latency_ms), report.latency_ms
    site = report.rss_mb["site"]
    assert site["before"] > 0 and site["after"] < 3 * site["before"] + 200, site
