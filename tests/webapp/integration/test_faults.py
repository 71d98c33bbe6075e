"""Faults under a running site (issue 18): PostgreSQL stopped and started again, and the analysis service dropping
connections mid-diagnosis. Each time the person gets a page that says what happened, nothing is half-saved, and the
site recovers by itself once the dependency is back (no restart)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.fixtures.postgres import PostgresCluster
from tests.webapp.conftest import count_rows, post_form, register
from tests.webapp.images import lesion_photo

pytestmark = pytest.mark.slow


@pytest.fixture
def db_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Overridden per test (each makes its own database); only the site's default environment needs one."""
    return f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"


@pytest.mark.postgres
async def test_postgresql_stopped_under_the_site_is_a_503_page_and_the_site_recovers_when_it_is_back(make_app):
    if os.environ.get("DRSKIN_TEST_DATABASE_URL"):
        pytest.skip("an external PostgreSQL (DRSKIN_TEST_DATABASE_URL) cannot be stopped and started by the test")
    cluster = PostgresCluster.create()
    try:
        cluster.start()
        url = cluster.server.url(cluster.server.create_database())
        app = await make_app(DATABASE_URL=url)
        async with AsyncTestClient(app=app) as client:
            await register(client, "outage@example.org")
            assert (await client.get("/history")).status_code == 200

            cluster.stop()
            down = await client.get("/history")
            assert down.status_code == 503, down.text[:500]
            assert "database is unavailable" in down.text and down.headers["retry-after"] == "30"
            ready = await client.get("/health/ready")
            assert ready.status_code == 503 and "database" in ready.json()["down"]
            assert (await client.get("/health/live")).status_code == 200  # the process itself is fine

            cluster.start()
            back = await client.get("/history")  # the pool's pre-ping replaces the dead connections
            assert back.status_code == 200, back.text[:500]
            assert (await client.get("/health/ready")).json()["checks"]["database"] == "ok"
    finally:
        cluster.remove()


class FaultyProxy:
    """A TCP relay in front of the real service, on its own thread and event loop (the test client runs the site
    on another), that can be told to cut every connection once the request has arrived (what the site sees when the
    service process dies mid-diagnosis), or to take ``POST /diagnose`` requests and never answer them while
    everything else (``/readyz``) is relayed (a hung classifier). Without a target it is a server that accepts
    every connection and never answers anything."""

    def __init__(self, target_host: str | None = None, target_port: int = 0) -> None:
        self.target = (target_host, target_port) if target_host else None
        self.cut = False
        self.hang_diagnose = False
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.AbstractServer | None = None

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self.loop).result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *args: object) -> None:
        async def close() -> None:
            assert self.server is not None
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            await reader.read(65536)  # the request starts arriving, then the "process" is gone
            writer.transport.abort()
            return
        if self.target is None:
            await self._hang(reader)
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    if from_client and self.hang_diagnose and data.startswith(b"POST /diagnose"):
                        await self._hang(source)  # the model "runs" forever: never relayed, never answered
                        break
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(Exception):
                sink.close()

        await asyncio.gather(pump(reader, upstream_writer, True), pump(upstream_reader, writer, False))

    @staticmethod
    async def _hang(reader: asyncio.StreamReader) -> None:
        """Take whatever arrives and answer nothing, until the client gives up and closes."""
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass


@pytest.fixture
async def proxied_site(make_app, service_url: str, tmp_path) -> AsyncIterator[tuple[AsyncTestClient, FaultyProxy, str]]:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    target = urlsplit(service_url)
    with FaultyProxy(target.hostname or "127.0.0.1", target.port or 80) as proxy:
        database = f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
        app = await make_app(DATABASE_URL=database, DRSKIN_SERVICE_URL=f"http://127.0.0.1:{proxy.port}")
        async with AsyncTestClient(app=app) as client:
            yield client, proxy, database


async def test_the_service_dying_mid_diagnosis_is_a_clear_page_nothing_is_half_saved_and_it_recovers(
        proxied_site) -> None:  # type: ignore[no-untyped-def]
    client, proxy, database = proxied_site
    await register(client, "cut@example.org")
    photo = lesion_photo(640, 480, seed=11)
    proxy.cut = True
    cut = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert cut.status_code == 503, cut.text[:500]
    assert "The analysis service is unavailable right now. Nothing was saved" in cut.text
    counts = await count_rows(database)
    assert counts["diagnoses"] == 0 and counts["photos"] == 0  # nothing half-saved

    proxy.cut = False  # the service is back: the same site, no restart
    ok = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert ok.status_code in (302, 303) and ok.headers["location"].startswith("/diagnoses/"), ok.text[:500]
    counts = await count_rows(database)
    assert counts["diagnoses"] == 1 and counts["photos"] == 1


async def test_a_service_that_accepts_and_never_answers_is_a_bounded_clear_page_and_readiness_says_so(
        make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real TCP server that accepts every connection and never answers (a hung service process)."""
    with FaultyProxy() as hung:
        database = f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
        app = await make_app(DATABASE_URL=database, DRSKIN_SERVICE_URL=f"http://127.0.0.1:{hung.port}",
                             DRSKIN_SERVICE_TIMEOUT="2")
        async with AsyncTestClient(app=app) as client:
            await register(client, "hung@example.org")
            photo = lesion_photo(320, 240, seed=12)
            answer = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
            assert answer.status_code == 503, answer.text[:500]
            assert "The analysis service is not answering. Nothing was saved; try again in a minute." in answer.text
            ready = await client.get("/health/ready")
            assert ready.status_code == 200  # the site itself is ready: its own page says the service is not
            assert ready.json()["checks"]["service"] == "not answering" and ready.json()["degraded"] == ["service"]
            assert (await count_rows(database))["diagnoses"] == 0


async def test_a_hung_classifier_behind_a_ready_service_is_a_clear_page_in_both_languages_and_readiness_says_so(
        proxied_site, service_url: str) -> None:  # type: ignore[no-untyped-def]
    """The service's own ``/readyz`` keeps saying ok while its model hangs (what the probe saw on ``make run``): the
    site's readiness must not believe it once a diagnosis went unanswered, and the person must not wait 30 s."""
    import httpx

    client, proxy, database = proxied_site
    client.app.state.service_client.timeout_s = 2.0  # DRSKIN_SERVICE_TIMEOUT, short here
    await register(client, "stuck@example.org")
    photo = lesion_photo(640, 480, seed=13)
    assert (await client.get("/health/ready")).json()["checks"]["service"] == "ok"
    proxy.hang_diagnose = True
    stuck = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert stuck.status_code == 503, stuck.text[:500]
    assert "The analysis service is not answering. Nothing was saved; try again in a minute." in stuck.text
    assert httpx.get(f"http://127.0.0.1:{proxy.port}/readyz", timeout=10).status_code == 200  # it says "ready"…
    ready = await client.get("/health/ready")  # … the site knows better (and stays ready itself)
    assert ready.status_code == 200 and ready.json()["checks"]["service"] == "not answering", ready.text
    home = await client.get("/")
    assert 'id="service-unavailable"' in home.text  # the home page says so before a photo is tried

    await client.get("/?lang=ko")
    korean = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert korean.status_code == 503 and "분석 서비스가 응답하지 않습니다" in korean.text, korean.text[:500]
    counts = await count_rows(database)
    assert counts["diagnoses"] == 0 and counts["photos"] == 0  # nothing half-saved

    proxy.hang_diagnose = False  # the model answers again: the next photo works and readiness recovers
    client.app.state.service_client.timeout_s = 20.0
    ok = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert ok.status_code in (302, 303), ok.text[:500]
    assert (await client.get("/health/ready")).json()["checks"]["service"] == "ok"


@contextlib.contextmanager
def _full_disk(directory: Path) -> Iterator[Callable[[], None] | None]:
    """A 4 MB tmpfs mounted at ``directory``; yields ``fill`` (writes a filler file until the file system answers
    ENOSPC), or None where it cannot be mounted (not root, no CAP_SYS_ADMIN)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield None
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(directory)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        yield None
        return

    def fill() -> None:
        descriptor = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(descriptor, b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            with contextlib.suppress(OSError):
                while True:  # the last few bytes too
                    os.write(descriptor, b"\0" * 512)
        finally:
            os.close(descriptor)

    try:
        yield fill
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


async def test_a_full_disk_when_a_photo_is_stored_is_a_clear_507_page_and_nothing_is_half_written(
        make_app, service_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The fault, for real where the test runs as root: the site's SQLite database lives on a 4 MB tmpfs that
    another file fills to the last byte, so SQLite's own write of the photo fails with SQLITE_FULL ("database or
    disk is full"), as on a full disk. Elsewhere, the same SQLite error from SQLite itself: every connection of the
    site's engine gets ``PRAGMA max_page_count`` at the database's current size, so the file cannot grow."""
    from sqlalchemy import event

    with _full_disk(tmp_path / "disk") as fill:
        database_file = tmp_path / "disk" / "site.db"
        database = f"sqlite+aiosqlite:///{database_file}"
        app = await make_app(DATABASE_URL=database, DRSKIN_SERVICE_URL=service_url)
        async with AsyncTestClient(app=app) as client:
            await register(client, "full@example.org")
            photo = lesion_photo(640, 480, seed=14)
            engine = app.state.alchemy_config.get_engine()

            def no_growth(connection: Any, record: Any) -> None:
                connection.execute("PRAGMA max_page_count = 1")  # SQLite raises it to the current page count

            if fill is not None:
                fill()
            else:
                event.listen(engine.sync_engine, "connect", no_growth)
                await engine.dispose()

            full = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
            assert full.status_code == 507, full.text[:500]
            assert "Your photo could not be stored: the site has no room left right now. Nothing was saved" in full.text
            await client.get("/?lang=ko")
            korean = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
            assert korean.status_code == 507 and "사진을 저장하지 못했습니다" in korean.text, korean.text[:500]

            if fill is not None:
                (tmp_path / "disk" / "filler").unlink()
            else:
                event.remove(engine.sync_engine, "connect", no_growth)
                await engine.dispose()
            counts = await count_rows(database)
            assert counts["diagnoses"] == 0 and counts["photos"] == 0, counts  # no half-written row
            with contextlib.closing(sqlite3.connect(database_file)) as check:  # the file itself is whole
                assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

            ok = await post_form(client, "/", "/diagnose", {}, files={"image": ("spot.jpg", photo, "image/jpeg")})
            assert ok.status_code in (302, 303), ok.text[:500]  # room again: the same site stores it
            assert (await count_rows(database))["diagnoses"] == 1


async def test_after_an_unanswered_diagnosis_the_next_ones_wait_less_until_one_is_answered(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Against a real server that never answers: the first diagnosis waits the whole time-out, the next ones only
    ``STALLED_TIMEOUT_S`` (read from the request that timed out, not from a clock)."""
    from webapp.core import service_client as module
    from webapp.core.settings import ServiceSettings

    monkeypatch.setattr(module, "STALLED_TIMEOUT_S", 0.5)
    with FaultyProxy() as hung:
        client = module.ServiceClient(ServiceSettings.given(url=f"http://127.0.0.1:{hung.port}", timeout_s=2.0))
        try:
            read_timeouts, stalled_since = [], []
            for _ in range(2):
                with pytest.raises(module.ServiceNotAnswering) as caught:
                    await client.diagnose(lesion_photo(64, 48, seed=15))
                read_timeouts.append(caught.value.__cause__.request.extensions["timeout"]["read"])  # type: ignore[union-attr]
                stalled_since.append(client._stalled_at)
            assert read_timeouts == [2.0, 0.5]
            assert stalled_since[0] is not None and stalled_since[1] == stalled_since[0]
            assert client.stalled and await client.readiness() == "not answering"
            # The shortened call did not extend the window (above): once it is over, the full time-out again (a
            # service that is merely slow is not held to the short one for ever).
            client._stalled_at = stalled_since[0] - module.STALLED_WINDOW_S
            assert not client.stalled
            with pytest.raises(module.ServiceNotAnswering) as caught:
                await client.diagnose(lesion_photo(64, 48, seed=15))
            assert caught.value.__cause__.request.extensions["timeout"]["read"] == 2.0  # type: ignore[union-attr]
        finally:
            await client.aclose()
