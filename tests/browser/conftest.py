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
def plain_site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The site without an analysis service (walks that arrange their results in the database): (url, database)."""
    from tests.webapp.conftest import closed_port_url

    database_url = f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": database_url, "DRSKIN_SERVICE_URL": closed_port_url(),
           "DRSKIN_SECRET_KEY": "browser-test-" + "s" * 32, "DRSKIN_RATE_LIMIT_LOGIN": "100"}
    with running_site(env, tmp_path) as url:
        yield url, database_url


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


# --- steps several walks share ---------------------------------------------------------------------------------------
PASSWORD = "browser pass 1"


async def sign_up(page, url: str, email: str, *, query: str = "") -> None:  # type: ignore[no-untyped-def]
    """Create an account through the sign-up form (``query``: e.g. ``?lang=en``); ends on the home page."""
    await page.goto(f"{url}/register{query}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_confirm", PASSWORD)
    await page.click("#register-form button[type=submit]")
    await page.wait_for_url(url + "/")


async def track_and_add_a_photo(page, name: str, site: str, photo: Path) -> str:  # type: ignore[no-untyped-def]
    """From a result page: follow the spot as a new lesion at ``site``, then diagnose ``photo`` of it from the
    lesion's page; returns the lesion's URL (where the second diagnosis lands)."""
    await page.fill("#new_lesion_name", name)
    await page.select_option("#body_site", site)
    await page.click("#attach-form button[type=submit]")
    await page.wait_for_url("**/lesions/*")
    lesion_url = str(page.url)
    await page.set_input_files("#image", str(photo))
    await page.click("#analyse")
    await page.wait_for_url(lesion_url)
    return lesion_url
