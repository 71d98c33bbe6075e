"""`make run`: the Bento service and the site on the embedded defaults (SQLite, the local BentoML store).

When the store has no models yet, small synthetic first-run models are trained (`drskin train quick`, about two
minutes; the site shows a banner that they are synthetic). With ``--data PATH``, real models are trained from a
HAM10000 folder first (`drskin train all`). Ctrl-C stops both servers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from serving.processes import end_marked_processes, marked_env  # noqa: E402 (the repository root, first)


def store_has_models() -> bool:
    import bentoml

    def has(name: str) -> bool:
        try:
            return bool(bentoml.models.list(name))
        except Exception:
            return False

    return has("skin-classifier") and has("skin-segmenter")


def wait_for(url: str, process: subprocess.Popen[bytes], what: str, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode} before it was ready; see the log above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    raise SystemExit(f"{what} was not ready at {url} after {timeout_s:.0f} s")


MAX_SERVICE_RESTARTS = 5


def supervise(running: dict[str, subprocess.Popen[bytes] | None], site: subprocess.Popen[bytes],
              start_service: Callable[[], subprocess.Popen[bytes]], service_url: str) -> None:
    """Keep the site up; when the Bento service dies, say so and start it again (at most ``MAX_SERVICE_RESTARTS``
    times, waiting longer each time). Meanwhile the site answers with its "service unavailable" page. Returns when
    the site stops (or on Ctrl-C, through KeyboardInterrupt); ``running["service"]`` is always the live process,
    for the caller to stop."""
    restarts = 0
    while site.poll() is None:
        current = running["service"]
        if current is not None and current.poll() is not None:
            code = current.returncode
            if restarts >= MAX_SERVICE_RESTARTS:
                print(f"\n  the Bento service stopped again (exit code {code}) after {restarts} restarts; not "
                      "restarting it. The site stays up and says the analysis is unavailable; see the service's "
                      "log above, fix it, then restart make run. Ctrl-C stops the site.\n", flush=True)
                running["service"] = None
                continue
            restarts += 1
            delay = min(30, 2 ** restarts)
            print(f"\n  the Bento service stopped unexpectedly (exit code {code}); the site stays up and says the "
                  f"analysis is unavailable meanwhile. Restarting the service in {delay} s ({restarts}/"
                  f"{MAX_SERVICE_RESTARTS}) …\n", flush=True)
            time.sleep(delay)
            current = running["service"] = start_service()
            try:
                wait_for(f"{service_url}/readyz", current, "the restarted Bento service")
                print(f"  the Bento service is back at {service_url}\n", flush=True)
            except SystemExit as exc:
                print(f"  {exc}", flush=True)
        time.sleep(1.0)
    print(f"\n  the site stopped (exit code {site.returncode}); stopping the service too. See the log above.\n",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service-port", type=int, default=int(os.environ.get("DRSKIN_SERVICE_PORT", 3000)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("DRSKIN_WEB_PORT", 8000)))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, help="train real models from this HAM10000 folder first")
    parser.add_argument("--time-budget-min", type=float, default=60.0, help="with --data: training budget")
    args = parser.parse_args()
    os.chdir(ROOT)

    drskin = str(BIN / "drskin")
    if args.data:
        print(f"training real models from {args.data} (budget {args.time_budget_min:.0f} min) …", flush=True)
        subprocess.run([drskin, "train", "all", "--data", str(args.data), "--time-budget-min",
                        str(args.time_budget_min)], check=True)
    elif not store_has_models():
        print("The BentoML store has no skin-classifier / skin-segmenter yet: training small SYNTHETIC first-run "
              "models (about two minutes). For real models: make run DATA=path/to/ham10000", flush=True)
        subprocess.run([drskin, "train", "quick"], check=True)

    service_url = f"http://{args.host}:{args.service_port}"
    site_url = f"http://{args.host}:{args.web_port}"
    env = {**os.environ, "DRSKIN_SERVICE_URL": service_url, "DRSKIN_WEB_HOST": args.host,
           "DRSKIN_WEB_PORT": str(args.web_port)}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        """`kill` (SIGTERM) stops both as Ctrl-C does: the first signal interrupts, later ones are ignored, so the
        cleanup always runs to its end (`make` forwards its own SIGTERM to the script at once, beside the one the
        whole process group gets; supervisors repeat themselves; Ctrl-C gets pressed twice)."""
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C too, explicitly: a process started in the background by a non-interactive shell inherits SIGINT as
    # ignored, and Python then leaves it ignored.
    signal.signal(signal.SIGINT, stop)

    # Every incarnation of the service carries one mark; its workers inherit it (serving.processes). BentoML starts
    # them in sessions of their own, so when `bentoml serve` dies they live on (and keep answering on the port)
    # unless ended by the mark.
    service_env, service_mark = marked_env(env)

    def start_service() -> subprocess.Popen[bytes]:
        leftovers = end_marked_processes(service_mark)
        if leftovers:
            print(f"  ended {len(leftovers)} worker process(es) the stopped Bento service left behind", flush=True)
        return subprocess.Popen([str(BIN / "bentoml"), "serve", "service:DrSkin", "--host", args.host, "--port",
                                 str(args.service_port)], env=service_env, start_new_session=True)

    running: dict[str, subprocess.Popen[bytes] | None] = {"service": None}
    site: subprocess.Popen[bytes] | None = None
    try:
        running["service"] = start_service()
        wait_for(f"{service_url}/readyz", running["service"], "the Bento service")  # type: ignore[arg-type]
        site = subprocess.Popen([sys.executable, "-m", "webapp", "run"], env=env, start_new_session=True)
        wait_for(f"{site_url}/health/live", site, "the site", timeout_s=120)
        print(f"\n  Dr. Skin is running\n    site:    {site_url}\n    service: {service_url}  (OpenAPI: "
              f"{service_url}/docs)\n  Ctrl-C stops both.\n", flush=True)
        supervise(running, site, start_service, service_url)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (site, running["service"]):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (site, running["service"]):
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        end_marked_processes(service_mark)  # workers of a service that died without ending them
        # Everything has ended. Python puts back the default handlers when it exits, so a late SIGTERM would then
        # kill the script and its exit code would say it failed: from here on, signals are ignored.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
