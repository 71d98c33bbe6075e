"""The site under uvicorn in a subprocess (migrated SQLite file) and Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fixtures.site import running_site
from tests.webapp.conftest import service_url  # noqa: F401  (the real BentoML service)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def site_url(service_url: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}",
           "DRSKIN_SERVICE_URL": service_url, "DRSKIN_SECRET_KEY": "browser-test-" + "y" * 32,
           "DRSKIN_RATE_LIMIT_LOGIN": "100", "DRSKIN_RATE_LIMIT_REGISTER": "100", "DRSKIN_RATE_LIMIT_DIAGNOSE": "100"}
    with running_site(env, tmp_path) as url:
        yield url


@pytest.fixture
async def page() -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        page = await context.new_page()
        try:
            yield page
        finally:
            await context.close()
            await browser.close()
