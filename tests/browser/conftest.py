"""The site under uvicorn in a subprocess (migrated SQLite file) and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.webapp.conftest import service_url  # noqa: F401  (the real BentoML service)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site_url(service_url: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    port = _free_port()
    env = {**os.environ, "DRSKIN_ENV": "test", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}",
           "DRSKIN_SERVICE_URL": service_url, "DRSKIN_SECRET_KEY": "browser-test-" + "y" * 32,
           "DRSKIN_RATE_LIMIT_LOGIN": "100", "DRSKIN_RATE_LIMIT_REGISTER": "100", "DRSKIN_RATE_LIMIT_DIAGNOSE": "100"}
    subprocess.run([sys.executable, "-m", "webapp", "migrate"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    log = open(tmp_path / "uvicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.app:create_app", "--factory", "--host",
                                "127.0.0.1", "--port", str(port)], cwd=REPO_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded 2-core machine can take minutes
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "uvicorn.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


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
