"""The soak run of docs/reliability.md: the whole stack on this machine, then scripts/soak.py against it.

    .venv/bin/python scripts/soak_stack.py --minutes 30 --users 32 [--json var/soak.json]

Starts a private PostgreSQL (initdb in a temporary folder, as the tests do), migrates it, starts `bentoml serve
service:DrSkin` on the models in the default BentoML store (what `make run` serves) and the site under uvicorn on
that database with its per-address rate limits off (the simulated people share 127.0.0.1), runs the driver, prints
its report, and stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "scripts"))


def _wait(url: str, process: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} was not ready after {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from soak import soak

    from tests.fixtures.postgres import PostgresCluster, _free_port

    cluster = PostgresCluster.create()
    processes: list[subprocess.Popen[bytes]] = []
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / "drskin-soak"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        cluster.start()
        database = cluster.server.url(cluster.server.create_database("drskin_soak"))
        service_port, site_port = _free_port(), _free_port()
        env = {**os.environ, "DATABASE_URL": database, "DRSKIN_ENV": "production",
               "DRSKIN_SECRET_KEY": "soak-" + "k" * 40, "DRSKIN_SERVICE_URL": f"http://127.0.0.1:{service_port}",
               "DRSKIN_RATE_LIMIT_LOGIN": "0", "DRSKIN_RATE_LIMIT_REGISTER": "0", "DRSKIN_RATE_LIMIT_DIAGNOSE": "0"}
        subprocess.run([sys.executable, "-m", "webapp", "migrate"], cwd=REPO_ROOT, env=env, check=True)
        bentoml = str(Path(sys.executable).with_name("bentoml"))
        processes.append(subprocess.Popen([bentoml, "serve", "service:DrSkin", "--host", "127.0.0.1", "--port",
                                           str(service_port)], cwd=REPO_ROOT, env=env,
                                          stdout=(logs / "service.log").open("wb"), stderr=subprocess.STDOUT))
        _wait(f"http://127.0.0.1:{service_port}/readyz", processes[-1])
        processes.append(subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.app:create_app", "--factory",
                                           "--host", "127.0.0.1", "--port", str(site_port)], cwd=REPO_ROOT, env=env,
                                          stdout=(logs / "site.log").open("wb"), stderr=subprocess.STDOUT))
        _wait(f"http://127.0.0.1:{site_port}/health/live", processes[-1])
        report = asyncio.run(soak(f"http://127.0.0.1:{site_port}", args.users, args.minutes * 60,
                                  database_url=database,
                                  pids={"service": processes[0].pid, "site": processes[1].pid}))
        from dataclasses import asdict

        data = {**asdict(report), "ok": report.ok, "minutes": args.minutes}
        print(json.dumps(data, indent=2))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(data, indent=2) + "\n")
        raise SystemExit(0 if report.ok else 1)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        cluster.remove()


if __name__ == "__main__":
    main()
