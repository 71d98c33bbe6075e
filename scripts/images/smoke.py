"""`make images-smoke`: start the images `make images` built and check that they answer as `make run` does.

    .venv/bin/python scripts/images/smoke.py [--json var/images-smoke.json] [--no-postgres]

Each container runs with the chart's settings (helm/drskin): its pod's user (the service as 1034, the site as 10001),
a read-only root file system with a writable /tmp, every capability dropped, no privilege escalation, the chart's
environment. The containers run under podman on the host network; the ports are free ones chosen here.

1. The service image (its entry point, `bentoml serve` on the packed Bento): no torch in it (`import torch` fails),
   /readyz answers 200, a photo posted to /diagnose gets an answer that skin_models.contract.DiagnoseResponse
   accepts. The photo is a HAM10000 photo from ../shared/data/ham10000-dev/images when present, else a synthetic one.
2. The site image against SQLite in its /tmp: the migration the chart's Job runs (`python -m webapp migrate`), then
   the image's command; the home page, and a diagnosis through the site (register, post the photo, open the result).
3. The same against PostgreSQL, the chart's way (DATABASE_URL composed as the chart composes it, migrated by the
   Job's command), when Debian's PostgreSQL server binaries are installed.

Measured: the image sizes, the seconds from start to ready, the first request's latency (and a second one's).
Exit status 0 when everything passed; the figures go to stdout and, with --json, to a file.

Podman needs, on a host like this one (cgroup v1 with an empty cgroup2 hierarchy mounted at
/sys/fs/cgroup/unified, no CAP_SYS_RESOURCE): the cgroupfs manager, explicit ulimits no higher than the host's, and
crun kept from seeing that cgroup2 mount (each podman call runs in a private mount namespace without it). Those
settings are in ``podman()`` below; docs/deploy.md explains them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from skin_models.contract import DiagnoseResponse  # noqa: E402  (after the path: the checkout's own code)

CHART = REPO_ROOT / "helm" / "drskin"
STORAGE_CONF = REPO_ROOT / "scripts" / "images" / "storage.conf"
SHARED_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "ham10000-dev" / "images"
READY_TIMEOUT_S = 300.0
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_DIAGNOSIS = re.compile(r"^/diagnoses/([0-9a-f-]{36})$")


class SmokeError(RuntimeError):
    """A check failed; the message says which and what was seen."""


@dataclass
class Report:
    photo: str = ""
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    service: dict[str, Any] = field(default_factory=dict)
    site: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    ok: bool = False


# --- what the chart runs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartImages:
    service: str
    site: str
    service_user: str
    site_user: str


def chart_images() -> ChartImages:
    """The images and users the chart's defaults run; `make images` stores those names under localhost/."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    app_version = str(yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"])

    def reference(component: str) -> str:
        image = values[component]["image"]
        return f"localhost/{image['repository']}:{image['tag'] or app_version}"

    def user(component: str) -> str:
        context = values[component]["podSecurityContext"]
        return f"{context['runAsUser']}:{context['runAsGroup']}"

    return ChartImages(reference("service"), reference("site"), user("service"), user("site"))


# --- podman ----------------------------------------------------------------------------------------------------------


def _hybrid_cgroups() -> bool:
    """True when a cgroup2 hierarchy sits at /sys/fs/cgroup/unified beside cgroup v1: crun refuses to start there."""
    with suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[1] == "/sys/fs/cgroup/unified" and parts[2] == "cgroup2":
                return True
    return False


def podman_command(*args: str) -> list[str]:
    """The podman command line for ``args`` with what this host needs (module docstring)."""
    command = ["podman", "--cgroup-manager=cgroupfs", *args]
    if _hybrid_cgroups():
        # A private mount namespace in which the cgroup2 mount is gone: crun then sees plain cgroup v1.
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'umount /sys/fs/cgroup/unified && exec "$@"', "podman", *command]
    return command


def podman(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run podman; with vfs storage a new container is a full copy of its image (about a minute for the service's
    1.2 GB on a busy disk), hence the generous timeout."""
    env = {**os.environ, "CONTAINERS_STORAGE_CONF": os.environ.get("CONTAINERS_STORAGE_CONF", str(STORAGE_CONF))}
    try:
        result = subprocess.run(podman_command(*args), capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise SmokeError(f"podman {' '.join(args[:3])} ... took more than {timeout:.0f} s") from exc
    if check and result.returncode != 0:
        raise SmokeError(f"podman {' '.join(args[:3])} ... failed ({result.returncode}): "
                         f"{result.stderr.strip()[-2000:]}")
    return result


def hardening(user: str) -> list[str]:
    """`podman run` flags for the chart's containerSecurityContext and the pod's user, /tmp an emptyDir."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--user", user, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--network", "host", f"--ulimit=nofile={nofile}:{nofile}", "--ulimit=nproc=4096:4096"]


def image_exists(reference: str) -> bool:
    return podman("image", "exists", reference, check=False).returncode == 0


def image_facts(reference: str) -> dict[str, Any]:
    [inspected] = json.loads(podman("image", "inspect", reference).stdout)
    config = inspected.get("Config") or {}
    return {"reference": reference, "size_bytes": int(inspected["Size"]),
            "size_mb": round(int(inspected["Size"]) / 1e6, 1), "user": config.get("User", ""),
            "entrypoint": config.get("Entrypoint"), "cmd": config.get("Cmd"), "created": inspected.get("Created")}


def imports(reference: str, user: str, modules: list[str]) -> dict[str, bool]:
    """Which of ``modules`` the image's Python can import (run as the pod's user, read-only root)."""
    script = ("import importlib.util, json, sys; "
              "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))")
    result = podman("run", "--rm", *hardening(user), "--tmpfs", "/tmp", "--entrypoint", "python", reference,
                    "-c", script, *modules)
    found: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


@contextmanager
def container(name: str, *args: str) -> Iterator[str]:
    """A detached container, removed afterwards (its log printed when the block fails)."""
    podman("run", "-d", "--name", name, *args)
    try:
        yield name
    except BaseException:
        logs = podman("logs", "--tail", "60", name, check=False)
        print(f"--- last log lines of {name} ---\n{logs.stdout}{logs.stderr}", file=sys.stderr)
        raise
    finally:
        podman("rm", "-f", "-t", "5", name, check=False)


# --- HTTP ------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, name: str, started: float, timeout: float = READY_TIMEOUT_S) -> float:
    """Seconds from ``started`` until ``url`` answers 200 (fails after ``timeout``, or when the container stops)."""
    deadline = started + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        with suppress(httpx.HTTPError):
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return round(time.monotonic() - started, 2)
            last = f"{response.status_code} {response.text[:200]}"
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
        if state not in ("running", "created", "configured"):
            raise SmokeError(f"{name} stopped ({state or 'gone'}) before {url} was ready")
        time.sleep(0.5)
    raise SmokeError(f"{url} not ready after {timeout:.0f} s (last: {last})")


def load_photo() -> tuple[bytes, str]:
    if SHARED_PHOTOS.is_dir():
        photos = sorted(SHARED_PHOTOS.glob("*.jpg"))
        if photos:
            return photos[0].read_bytes(), f"HAM10000 photo {photos[0].name} (../shared/data/ham10000-dev)"
    from tests.webapp.images import lesion_photo

    return lesion_photo(640, 480, seed=0), "synthetic photo (tests.webapp.images.lesion_photo, 640x480)"


def timed_post(url: str, photo: bytes, *, explain: bool = False) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = httpx.post(url, files={"image": ("photo.jpg", photo, "image/jpeg")},
                          data={"explain": "true"} if explain else None, timeout=120)
    return response, round((time.perf_counter() - start) * 1000, 1)


# --- the checks ------------------------------------------------------------------------------------------------------


@contextmanager
def running_service(images: ChartImages, photo: bytes, report: Report) -> Iterator[str]:
    """Start the service image and check it; its URL while it runs."""
    found = imports(images.service, images.service_user,
                    ["torch", "torchvision", "timm", "segmentation_models_pytorch", "onnxruntime", "bentoml"])
    report.service["imports"] = found
    port = free_port()
    name = f"drskin-smoke-service-{uuid.uuid4().hex[:8]}"
    # The chart's service ConfigMap (helm/drskin/templates/service-configmap.yaml), with a free port.
    env = {"BENTOML_HOST": "0.0.0.0", "BENTOML_PORT": str(port), "TMPDIR": "/tmp", "XDG_CACHE_HOME": "/tmp/.cache",
           "MPLCONFIGDIR": "/tmp/matplotlib"}
    started = time.monotonic()
    with container(name, *hardening(images.service_user), "--tmpfs", "/tmp:rw,mode=1777,size=1g",
                   *[f"--env={key}={value}" for key, value in env.items()], images.service) as running:
        # `podman run -d` returns once the process runs; with vfs that includes copying the image (not in a pod).
        report.service["container_started_s"] = round(time.monotonic() - started, 2)
        url = f"http://127.0.0.1:{port}"
        report.service["start_to_ready_s"] = wait_ready(f"{url}/readyz", running, started)
        response, first_ms = timed_post(f"{url}/diagnose", photo)
        if response.status_code != 200:
            raise SmokeError(f"service /diagnose answered {response.status_code}: {response.text[:500]}")
        answer = DiagnoseResponse.model_validate_json(response.content)
        # Again with the explanation, which comes from the classifier's own ONNX pass (no torch in the image).
        explained, second_ms = timed_post(f"{url}/diagnose", photo, explain=True)
        if explained.status_code != 200:
            raise SmokeError(f"service /diagnose?explain=true answered {explained.status_code}: {explained.text[:500]}")
        with_explanation = DiagnoseResponse.model_validate_json(explained.content)
        if with_explanation.verdict == "ok" and with_explanation.explanation is None:
            raise SmokeError("service /diagnose with explain=true and a verdict of 'ok' gave no explanation")
        report.service.update(first_request_ms=first_ms, second_request_ms=second_ms, verdict=answer.verdict,
                              verdict_reasons=answer.verdict_reasons,
                              label=answer.classification.label if answer.classification else None,
                              explained=with_explanation.explanation is not None,
                              models=[model.tag for model in answer.models])
        if found.get("torch"):
            raise SmokeError(f"the service image holds torch: {found}")
        compare_with_local_serve(answer, photo, report)
        yield url


def compare_with_local_serve(answer: DiagnoseResponse, photo: bytes, report: Report) -> None:
    """The same photo through `bentoml serve` from this checkout (what `make run` starts) on the same models, when
    the local BentoML store holds them: the same verdict and, to ONNX Runtime's rounding, the same probabilities."""
    from tests.fixtures.service import BentoServer

    home = Path(os.environ.get("BENTOML_HOME") or Path.home() / "bentoml")
    tags = {model.name: model.tag for model in answer.models}
    missing = [tag for tag in tags.values() if not (home / "models" / Path(*tag.split(":"))).is_dir()]
    if missing:
        report.skipped.append(f"comparison with a local `bentoml serve`: {home} lacks {', '.join(missing)}")
        return
    with tempfile.TemporaryDirectory(prefix="drskin-smoke-serve-") as folder:
        # A home of its own that links to the models (`bentoml serve` empties its home's Prometheus folder, which a
        # running `make run` on the same store uses).
        own_home = Path(folder) / "bentoml"
        for tag in tags.values():
            name, version = tag.split(":")
            (own_home / "models" / name).mkdir(parents=True, exist_ok=True)
            (own_home / "models" / name / version).symlink_to(home / "models" / name / version)
        env = {"DRSKIN_CLASSIFIER": tags["skin-classifier"], "DRSKIN_SEGMENTER": tags["skin-segmenter"]}
        server = BentoServer(own_home, log_path=Path(folder) / "serve.log", env=env)
        server.start()
        try:
            response, _ = timed_post(f"{server.url}/diagnose", photo)
        finally:
            server.stop()
    local = DiagnoseResponse.model_validate_json(response.content)
    difference = 0.0
    if answer.classification and local.classification:
        image_p, local_p = answer.classification.probabilities or {}, local.classification.probabilities or {}
        difference = max((abs(image_p[code] - local_p.get(code, -1.0)) for code in image_p), default=0.0)
    report.service["same_as_local_serve"] = {"local_verdict": local.verdict, "max_probability_difference": difference}
    if local.verdict != answer.verdict or difference > 1e-3:
        raise SmokeError(f"the image answers {answer.verdict} but `bentoml serve` here {local.verdict} "
                         f"(probabilities differ by up to {difference:.2g})")


def site_flow(url: str, photo: bytes) -> dict[str, Any]:
    """The home page, then register and diagnose through the site; the result page opens again."""
    with httpx.Client(base_url=url, timeout=120, follow_redirects=False) as client:
        start = time.perf_counter()
        home = client.get("/")
        home_ms = round((time.perf_counter() - start) * 1000, 1)
        if home.status_code != 200 or "Dr. Skin" not in home.text:
            raise SmokeError(f"site / answered {home.status_code}: {home.text[:300]}")
        token = _CSRF.search(client.get("/register").text)
        email = f"smoke-{uuid.uuid4().hex[:10]}@example.org"
        password = "smoke password 1"
        registered = client.post("/register", data={"_csrf_token": token.group(1) if token else "", "email": email,
                                                     "password": password, "password_confirm": password})
        if registered.status_code not in (302, 303):
            raise SmokeError(f"site /register answered {registered.status_code}: {registered.text[:300]}")
        token = _CSRF.search(client.get("/").text)
        start = time.perf_counter()
        posted = client.post("/diagnose", data={"_csrf_token": token.group(1) if token else ""},
                             files={"image": ("photo.jpg", photo, "image/jpeg")})
        diagnose_ms = round((time.perf_counter() - start) * 1000, 1)
        location = httpx.URL(posted.headers.get("location", "")).path
        if posted.status_code in (302, 303) and _DIAGNOSIS.match(location):
            result = client.get(location)
            if result.status_code != 200:
                raise SmokeError(f"site {location} answered {result.status_code}")
            outcome = "stored diagnosis " + location
        elif posted.status_code == 200 and "retake" in posted.text.lower():
            outcome = "retake page (the photo could not be judged; nothing stored)"
        else:
            raise SmokeError(f"site /diagnose answered {posted.status_code} {location}: {posted.text[:300]}")
    return {"home_first_ms": home_ms, "diagnose_ms": diagnose_ms, "outcome": outcome}


def check_site(images: ChartImages, service_url: str, photo: bytes, database: str, database_env: dict[str, str],
               tmp: Path) -> dict[str, Any]:
    """Migrate (the chart's Job) and start the site image against ``database``; the site flow through it."""
    site_tmp = tmp / f"site-{database}"
    site_tmp.mkdir(mode=0o777)
    site_tmp.chmod(0o1777)  # the pod's /tmp emptyDir, shared by the migration and the site here (SQLite lives there)
    port = free_port()
    # The chart's site ConfigMap and Deployment env (helm/drskin/templates/site-*.yaml).
    env = {"DRSKIN_ENV": "production", "DRSKIN_SERVICE_URL": service_url, "DRSKIN_SECURE_COOKIES": "false",
           "FORWARDED_ALLOW_IPS": "", "TMPDIR": "/tmp", "DRSKIN_SECRET_KEY": secrets.token_hex(32), **database_env}
    env_flags = [f"--env={key}={value}" for key, value in env.items()]
    run_flags = [*hardening(images.site_user), "--volume", f"{site_tmp}:/tmp:rw", *env_flags]
    migrate = podman("run", "--rm", *run_flags, images.site, "python", "-m", "webapp", "migrate")
    name = f"drskin-smoke-site-{database}-{uuid.uuid4().hex[:8]}"
    # The image's command (Dockerfile.webapp's CMD, the chart's command) on a free port instead of 8000.
    [inspected] = json.loads(podman("image", "inspect", images.site).stdout)
    command = [str(port) if part == "8000" else part for part in inspected["Config"]["Cmd"]]
    started = time.monotonic()
    with container(name, *run_flags, images.site, *command) as running:
        container_started_s = round(time.monotonic() - started, 2)
        url = f"http://127.0.0.1:{port}"
        ready_s = wait_ready(f"{url}/health/ready", running, started)
        flow = site_flow(url, photo)
    return {"database": database, "migration": migrate.stdout.strip().splitlines()[-1:] or ["(no output)"],
            "container_started_s": container_started_s, "start_to_ready_s": ready_s, **flow}


@contextmanager
def postgres() -> Iterator[Any]:
    from tests.fixtures.postgres import PostgresCluster

    cluster = PostgresCluster.create()
    try:
        cluster.start()
        yield cluster.server
    finally:
        cluster.remove()


def postgres_available() -> bool:
    from tests.fixtures.postgres import _find_binary

    return bool(_find_binary("initdb") and _find_binary("pg_ctl"))


def run(report: Report, *, with_postgres: bool) -> None:
    if shutil.which("podman") is None:
        raise SmokeError("podman is missing: apt-get install -y podman")
    images = chart_images()
    for reference in (images.service, images.site):
        if not image_exists(reference):
            raise SmokeError(f"no image {reference}: build it with `make images`")
        report.images[reference] = image_facts(reference)
    photo, report.photo = load_photo()
    with tempfile.TemporaryDirectory(prefix="drskin-smoke-") as folder:
        tmp = Path(folder)
        tmp.chmod(0o755)
        with running_service(images, photo, report) as service_url:
            site_imports = imports(images.site, images.site_user, ["torch", "bentoml", "onnxruntime", "webapp"])
            if any(site_imports[name] for name in ("torch", "bentoml", "onnxruntime")) or not site_imports["webapp"]:
                raise SmokeError(f"the site image's packages are not the site's: {site_imports}")
            report.site["sqlite"] = check_site(images, service_url, photo, "sqlite",
                                               {"DATABASE_URL": "sqlite+aiosqlite:////tmp/drskin.sqlite3"}, tmp)
            if not with_postgres:
                report.skipped.append("PostgreSQL: --no-postgres")
            elif not postgres_available():
                report.skipped.append("PostgreSQL: no initdb/pg_ctl (apt-get install postgresql)")
            else:
                with postgres() as server:
                    database = server.create_database("drskin_smoke")
                    password = "smoke"  # trust authentication: any password; the chart composes the URL with one
                    env = {"DATABASE_HOST": server.host, "DATABASE_PORT": str(server.port), "DATABASE_NAME": database,
                           "DATABASE_USER": server.user, "DATABASE_PASSWORD": password,
                           "DATABASE_URL": f"postgresql+asyncpg://{server.user}:{password}@{server.host}:"
                                           f"{server.port}/{database}"}
                    report.site["postgresql"] = check_site(images, service_url, photo, "postgresql", env, tmp)
    report.ok = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--no-postgres", action="store_true", help="only SQLite for the site")
    args = parser.parse_args()
    report = Report()
    error = None
    try:
        run(report, with_postgres=not args.no_postgres)
    except SmokeError as exc:
        error = str(exc)
    data = {**asdict(report), "error": error}
    print(json.dumps(data, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if error:
        print(f"images-smoke FAILED: {error}", file=sys.stderr)
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
