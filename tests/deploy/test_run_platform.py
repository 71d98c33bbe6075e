"""`make run` (scripts/run_platform.py): starts the real Bento service and the real site, and stops both again.

The script runs as a user runs it, on the tiny models of the test BentoML store and a throwaway SQLite database.
`kill PID` (SIGTERM, what a process manager or a closed terminal sends) must stop the service and the site just as
Ctrl-C does: nothing may keep running or keep holding its port after the script has ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fixtures.service import REPO_ROOT, STARTUP_TIMEOUT_S, free_port, register_tiny_models

pytestmark = pytest.mark.timeout(STARTUP_TIMEOUT_S * 2 + 120)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_up(url: str, script: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert script.poll() is None, f"run_platform.py exited with {script.returncode}:\n{log.read_text()}"
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} was not up after {STARTUP_TIMEOUT_S:.0f} s:\n{log.read_text()}")


def _start_platform(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, int, Path]:
    """run_platform.py as a user starts it, on the tiny models, a throwaway SQLite and a BentoML home of its own
    (`bentoml serve` empties its home's Prometheus folder when it starts, which would wipe the metrics of the
    session's shared test server that tests/service/test_batching.py reads); returns once it says it is running."""
    bentoml_home = tmp_path / "bentoml"
    register_tiny_models(bentoml_home)
    service_port, web_port = free_port(), free_port()
    env = {**os.environ, "BENTOML_HOME": str(bentoml_home), "BENTOML_DO_NOT_TRACK": "true",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}", "DRSKIN_SECRET_KEY": "test-secret-key",
           "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        script = subprocess.Popen([sys.executable, "scripts/run_platform.py", "--service-port", str(service_port),
                                   "--web-port", str(web_port)], cwd=REPO_ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    _wait_up(f"http://127.0.0.1:{service_port}/readyz", script, log)
    _wait_up(f"http://127.0.0.1:{web_port}/health/live", script, log)
    deadline = time.monotonic() + 30  # the script polls the site once a second before it says so
    while "Dr. Skin is running" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "Dr. Skin is running" in log.read_text()
    return script, service_port, web_port, log


def _workers(bentoml_home: Path) -> list[psutil.Process]:
    """The BentoML worker processes serving from ``bentoml_home`` (this test's own), orphaned or not."""
    found = []
    for process in psutil.process_iter():
        try:
            if ("_bentoml_impl" in " ".join(process.cmdline())
                    and process.environ().get("BENTOML_HOME") == str(bentoml_home)):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _kill_everything(script: subprocess.Popen[bytes], children: list[psutil.Process], bentoml_home: Path) -> None:
    """Whatever a failed run left behind: the script, every process it started (a service restarted after
    ``children`` was taken included), their process groups, and then the workers of this test's BentoML home."""
    with contextlib.suppress(psutil.NoSuchProcess):
        children = children + psutil.Process(script.pid).children(recursive=True)
    if script.poll() is None:
        children.append(psutil.Process(script.pid))
    for process in children:
        with contextlib.suppress(ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    for worker in _workers(bentoml_home):  # in sessions of their own: out of reach of the groups above
        with contextlib.suppress(psutil.NoSuchProcess):
            worker.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_signal_to_make_run_stops_the_service_and_the_site(tmp_path: Path, signum: int) -> None:
    script, service_port, web_port, _ = _start_platform(tmp_path)
    children: list[psutil.Process] = []
    try:
        children = psutil.Process(script.pid).children(recursive=True)
        assert len(children) >= 2, "expected the service and the site as child processes"

        os.kill(script.pid, signum)  # the script only, as `kill PID` or Ctrl-C in its terminal would
        script.wait(timeout=60)

        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after the script ended: {[p.cmdline() for p in alive]}"
        assert not _port_open(service_port), "the service still holds its port"
        assert not _port_open(web_port), "the site still holds its port"
    finally:
        _kill_everything(script, children, tmp_path / "bentoml")


@pytest.mark.parametrize("signals", [1, 200], ids=["once", "repeated"])
def test_sigterm_to_the_process_group_ends_everything_every_time(tmp_path: Path, signals: int) -> None:
    """As a supervisor, `timeout` or a terminal stops `make run`: SIGTERM to its whole process group, and again
    while it is cleaning up (`make` forwards its own SIGTERM to the script at once; a supervisor repeats itself;
    Ctrl-C is pressed twice). The cleanup must finish: before, a second signal raised KeyboardInterrupt inside it
    and left `bentoml serve`, its workers and the site running."""
    script, service_port, web_port, log = _start_platform(tmp_path)
    children: list[psutil.Process] = []
    try:
        children = psutil.Process(script.pid).children(recursive=True)
        for _ in range(signals):  # every 5 ms for a second: some land in the middle of the cleanup
            with contextlib.suppress(ProcessLookupError):
                os.killpg(script.pid, signal.SIGTERM)  # the script leads its own group, as `make` would
            time.sleep(0.005)
        script.wait(timeout=90)
        # The cleanup ran to its end: no KeyboardInterrupt escaped it (it would skip ending the service's workers).
        assert script.returncode == 0 and "Traceback" not in log.read_text(), log.read_text()[-3000:]
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after the script ended: {[p.cmdline() for p in alive]}\n{log.read_text()}"
        assert not _workers(tmp_path / "bentoml"), "BentoML workers outlived make run"
        assert not _port_open(service_port), "the service still holds its port"
        assert not _port_open(web_port), "the site still holds its port"
    finally:
        _kill_everything(script, children, tmp_path / "bentoml")


def test_when_the_service_dies_make_run_says_so_keeps_the_site_and_restarts_it(tmp_path: Path) -> None:
    """Found by a probe: when the `bentoml serve` processes died, the script stopped the site too and exited
    without a word. Now the site stays up (saying the analysis is unavailable) and the service comes back."""
    script, service_port, web_port, log = _start_platform(tmp_path)
    children: list[psutil.Process] = []
    try:
        children = psutil.Process(script.pid).children(recursive=True)
        [serve] = [p for p in psutil.Process(script.pid).children() if "serve" in " ".join(p.cmdline())]
        old_workers = _workers(tmp_path / "bentoml")
        assert len(old_workers) >= 3, "expected the service's workers (entry, classifier, segmenter)"
        os.killpg(serve.pid, signal.SIGKILL)  # the server dies; its workers, in sessions of their own, do not
        deadline = time.monotonic() + 30
        while "stopped unexpectedly" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "stopped unexpectedly" in log.read_text(), log.read_text()
        assert script.poll() is None, "the script must keep running"
        assert httpx.get(f"http://127.0.0.1:{web_port}/health/live", timeout=5).status_code == 200
        # Not /readyz alone: the dead server's orphaned entry worker still holds the port and answers it.
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "the Bento service is back" not in log.read_text() and time.monotonic() < deadline:
            assert script.poll() is None, log.read_text()
            time.sleep(0.5)
        assert "the Bento service is back" in log.read_text(), log.read_text()
        _wait_up(f"http://127.0.0.1:{service_port}/readyz", script, log)
        assert not [p for p in old_workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], \
            "the dead service's workers were left running next to the new ones"
        assert "worker process(es) the stopped Bento service left behind" in log.read_text()
        children = psutil.Process(script.pid).children(recursive=True)
        os.kill(script.pid, signal.SIGTERM)
        script.wait(timeout=60)
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after the script ended: {[p.cmdline() for p in alive]}"
        assert not _workers(tmp_path / "bentoml"), "BentoML workers outlived make run"
    finally:
        _kill_everything(script, children, tmp_path / "bentoml")
