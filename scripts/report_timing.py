"""How long the PDF report for a doctor takes to lay out, and how large it is (docs/site.md).

    PYTHONPATH=. python scripts/report_timing.py
    PYTHONPATH=. python scripts/report_timing.py --memory 8   # resident memory over 8 blocks of 40 reports

Builds unsaved rows (a lesion with 1, 2 and 10 photos of 1024×768, each a different synthetic lesion with a
314-point outline) and renders each report five times per language; prints the median time and the size.
``--memory N`` instead renders 2-photo reports on two threads, as the site does (at most two at once), English and
Korean alternating, and prints the process's resident memory after each block of 40 (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from tests.webapp.conftest import fake_result
from tests.webapp.images import lesion_photo
from webapp.core.i18n import set_current_language
from webapp.db.models import Diagnosis, Lesion, Photo, User
from webapp.reports.pdf import render
from webapp.reports.views import lesion_report

WIDTH, HEIGHT = 1024, 768


def _rows(visits: int) -> tuple[list[Diagnosis], dict[uuid.UUID, Photo]]:
    photos: dict[uuid.UUID, Photo] = {}
    rows = []
    outline = [[WIDTH / 2 + 300 * math.cos(a / 50), HEIGHT / 2 + 250 * math.sin(a / 50)] for a in range(314)]
    for i in range(visits):
        result = fake_result(concerning=0.1 + 0.03 * i, area=0.2 + 0.01 * i)
        result["segmentation"] |= {"width": WIDTH, "height": HEIGHT, "outline": outline}
        photo = Photo(id=uuid.uuid4(), content_type="image/jpeg", width=WIDTH, height=HEIGHT,
                      data=lesion_photo(WIDTH, HEIGHT, seed=i, with_gps=False))
        photos[photo.id] = photo
        rows.append(Diagnosis(id=uuid.uuid4(), photo_id=photo.id, overlay_id=None, label="nv", triage_level="low",
                              concerning_probability=0.1 + 0.03 * i, area_fraction=0.2 + 0.01 * i,
                              model_versions=result["models"], result=result,
                              created_at=datetime(2026, 10, 1, tzinfo=UTC) + timedelta(days=30 * i)))
    return rows, photos


def memory(blocks: int, user: User, lesion: Lesion) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    rows, photos = _rows(2)
    process = psutil.Process()

    def one(index: int) -> int:
        set_current_language("ko" if index % 2 else "en")
        return len(render(lesion_report(user, lesion, rows, photos, datetime.now(UTC))))

    print(f"reports    0: {process.memory_info().rss / 2**20:6.1f} MB", flush=True)
    with ThreadPoolExecutor(2) as pool:
        for block in range(1, blocks + 1):
            list(pool.map(one, range(40)))
            print(f"reports {block * 40:4d}: {process.memory_info().rss / 2**20:6.1f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memory", type=int, metavar="BLOCKS", default=0)
    args = parser.parse_args()
    user = User(email="timing@example.org", password_hash="-")
    lesion = Lesion(user_id=uuid.uuid4(), name="spot", body_site="back", created_at=datetime(2026, 10, 1, tzinfo=UTC))
    if args.memory:
        memory(args.memory, user, lesion)
        return
    for visits in (1, 2, 10):
        rows, photos = _rows(visits)
        for lang in ("en", "ko"):
            set_current_language(lang)
            times, size = [], 0
            for _ in range(5):
                start = time.perf_counter()
                size = len(render(lesion_report(user, lesion, rows, photos, datetime.now(UTC))))
                times.append(time.perf_counter() - start)
            jpegs = sum(len(p.data) for p in photos.values())
            print(f"{lang} photos={visits:2d}: median {statistics.median(times) * 1000:5.0f} ms, "
                  f"PDF {size / 1024:4.0f} KiB (the JPEGs alone {jpegs / 1024:4.0f} KiB)")


if __name__ == "__main__":
    main()
