"""Load and soak driver (issue 18): simulated people register, diagnose photos, open their results and history,
read the disease library and now and then download a result's PDF report, all at once, for a bounded time,
against a running site (127.0.0.1 only).

    .venv/bin/python scripts/soak.py --site http://127.0.0.1:8000 --users 32 --minutes 30 \
        [--database-url postgresql+asyncpg://...] [--json var/soak.json]

Afterwards it checks that every diagnosis the site acknowledged (a redirect to /diagnoses/<id>) can be opened by its
owner (and, with --database-url, that the database holds exactly those rows), and reports requests, 5xx and
429 counts, p50/p95 latency per page, and the resident memory (RSS) of the site's and the service's processes before
and after. The 32 simulated people share one address, so run the site with its per-address rate limits off
(DRSKIN_RATE_LIMIT_LOGIN=0 DRSKIN_RATE_LIMIT_REGISTER=0 DRSKIN_RATE_LIMIT_DIAGNOSE=0); with them on, 429s are counted
as refused, never as failures. Photos: HAM10000 photos from ../shared when present, else generated ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = REPO_ROOT.parent / "shared" / "data" / "ham10000-dev" / "images"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_DIAGNOSIS = re.compile(r"^/diagnoses/([0-9a-f-]{36})$")


@dataclass
class Report:
    users: int
    seconds: float
    requests: int = 0
    server_errors: int = 0
    rate_limited: int = 0
    other_errors: dict[str, int] = field(default_factory=dict)
    acknowledged: int = 0
    found_again: int = 0
    in_database: int | None = None
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_mb: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.server_errors == 0 and self.found_again == self.acknowledged
                and self.in_database in (None, self.acknowledged))


def load_photos(count: int = 12) -> list[bytes]:
    if SHARED_PHOTOS.is_dir():
        files = sorted(SHARED_PHOTOS.glob("*.jpg"))[:count]
        if files:
            return [f.read_bytes() for f in files]
    sys.path.insert(0, str(REPO_ROOT))
    from tests.webapp.images import lesion_photo

    return [lesion_photo(640, 480, seed=seed) for seed in range(count)]


def _tree_rss(pid: int) -> float:
    """Resident memory (MB) of process ``pid`` and all its descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += member.memory_info().rss
    return round(total / 2**20, 1)


def _rss(pattern: str) -> float:
    """Total resident memory (MB) of the processes whose command line matches ``pattern`` (any on the machine:
    give ``--pid`` for an exact figure)."""
    import psutil

    total = 0
    for process in psutil.process_iter(["cmdline", "memory_info"]):
        command = " ".join(process.info.get("cmdline") or [])
        memory = process.info.get("memory_info")
        if memory is not None and re.search(pattern, command) and "soak.py" not in command and "pytest" not in command:
            total += memory.rss
    return round(total / 2**20, 1)


PROCESSES = {"site": r"uvicorn .*webapp|python.* -m webapp( |$)|webapp\.app", "service": r"bentoml|_bentoml_impl"}


class Person:
    """One simulated person with their own cookies."""

    def __init__(self, site: str, number: int, photos: list[bytes], timings: dict[str, list[float]],
                 report: Report) -> None:
        import httpx

        self.client = httpx.AsyncClient(base_url=site, timeout=120.0, follow_redirects=False)
        self.email = f"soak-{uuid.uuid4().hex[:10]}-{number}@example.org"
        self.photos = photos
        self.timings = timings
        self.report = report
        self.diagnoses: list[str] = []
        self.rng = random.Random(number)

    async def request(self, page: str, method: str, url: str, **kwargs: Any) -> Any:
        start = time.perf_counter()
        response = await self.client.request(method, url, **kwargs)
        self.timings.setdefault(page, []).append((time.perf_counter() - start) * 1000)
        self.report.requests += 1
        if response.status_code >= 500:
            self.report.server_errors += 1
        elif response.status_code == 429:
            self.report.rate_limited += 1
        elif response.status_code >= 400:
            key = f"{page} {response.status_code}"
            self.report.other_errors[key] = self.report.other_errors.get(key, 0) + 1
        return response

    async def csrf(self, page: str, url: str) -> str:
        response = await self.request(page, "GET", url)
        found = _CSRF.search(response.text)
        return found.group(1) if found else ""

    async def register(self) -> bool:
        token = await self.csrf("register page", "/register")
        response = await self.request("register", "POST", "/register", data={
            "_csrf_token": token, "email": self.email, "password": "soak password 1",
            "password_confirm": "soak password 1"})
        return response.status_code in (302, 303)

    async def diagnose(self) -> None:
        token = await self.csrf("home", "/")
        photo = self.rng.choice(self.photos)
        response = await self.request("diagnose", "POST", "/diagnose", data={"_csrf_token": token},
                                      files={"image": ("photo.jpg", photo, "image/jpeg")})
        location = response.headers.get("location", "")
        found = _DIAGNOSIS.match(urlsplit(location).path)
        if response.status_code in (302, 303) and found:
            self.diagnoses.append(found.group(1))
            self.report.acknowledged += 1
            await self.request("result", "GET", location)

    async def live(self, deadline: float) -> None:
        if not await self.register():
            return
        while time.monotonic() < deadline:
            choice = self.rng.random()
            if choice < 0.5:
                await self.diagnose()
            elif choice < 0.7:
                await self.request("history", "GET", "/history")
            elif choice < 0.82:
                await self.request("diseases", "GET", f"/diseases/{self.rng.choice(['mel', 'nv', 'bcc', 'df'])}")
            elif choice < 0.97 or not self.diagnoses:
                await self.request("lesions", "GET", "/lesions")
            else:  # now and then the PDF for a doctor (a second or so of CPU each, at most two at once)
                response = await self.request("report pdf", "GET",
                                              f"/diagnoses/{self.rng.choice(self.diagnoses)}/report.pdf")
                if response.status_code == 200 and not response.content.startswith(b"%PDF"):
                    self.report.other_errors["report pdf: not a PDF"] = \
                        self.report.other_errors.get("report pdf: not a PDF", 0) + 1

    async def check(self) -> int:
        """How many of this person's acknowledged diagnoses open again."""
        found = 0
        for diagnosis in self.diagnoses:
            response = await self.client.get(f"/diagnoses/{diagnosis}")
            found += response.status_code == 200
        await self.client.aclose()
        return found


async def count_rows(database_url: str, emails: list[str]) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    sys.path.insert(0, str(REPO_ROOT))
    from webapp.db.models import Diagnosis, User

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).select_from(Diagnosis).join(User, User.id == Diagnosis.user_id).where(
                User.email.in_(emails))
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def soak(site: str, users: int, seconds: float, *, database_url: str | None = None,
               photos: list[bytes] | None = None, pids: dict[str, int] | None = None) -> Report:
    host = urlsplit(site).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the soak driver only talks to this machine (127.0.0.1), not {host}")
    photos = photos or load_photos()
    report = Report(users=users, seconds=seconds)
    def memory(name: str) -> float:
        return _tree_rss(pids[name]) if pids and name in pids else _rss(PROCESSES[name])

    report.rss_mb = {name: {"before": memory(name)} for name in PROCESSES}
    timings: dict[str, list[float]] = {}
    people = [Person(site, number, photos, timings, report) for number in range(users)]
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(person.live(deadline) for person in people))
    report.found_again = sum(await asyncio.gather(*(person.check() for person in people)))
    if database_url:
        report.in_database = await count_rows(database_url, [person.email for person in people])
    for name in PROCESSES:
        report.rss_mb[name]["after"] = memory(name)
    report.latency_ms = {page: {"n": len(values), "p50": round(statistics.median(values), 1),
                                "p95": round(sorted(values)[int(0.95 * (len(values) - 1))], 1)}
                         for page, values in sorted(timings.items())}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--database-url", default=None, help="also count the rows in the site's database")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--pid", action="append", default=[], metavar="NAME=PID",
                        help="site=PID / service=PID: measure those process trees' memory (else by command line)")
    args = parser.parse_args()
    pids = {name: int(pid) for name, _, pid in (item.partition("=") for item in args.pid)}
    report = asyncio.run(soak(args.site, args.users, args.minutes * 60, database_url=args.database_url,
                              pids=pids))
    data = {**asdict(report), "ok": report.ok}
    print(json.dumps(data, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
