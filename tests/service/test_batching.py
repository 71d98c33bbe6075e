"""Concurrent requests to all three endpoints are batched together (seen in /metrics)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.fixtures.service import synthetic_lesion_photo

pytestmark = pytest.mark.slow

BATCH_METRIC = "bentoml_service_adaptive_batch_size"


def _batch_stats(metrics: str, service: str) -> tuple[float, float]:
    """(number of batches, number of batches of size 1) for ``service`` from the Prometheus text."""
    count = ones = 0.0
    for line in metrics.splitlines():
        if not line.startswith(BATCH_METRIC) or f'runner_name="{service}"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith(f"{BATCH_METRIC}_count"):
            count += value
        elif line.startswith(f"{BATCH_METRIC}_bucket") and re.search(r'le="1(\.0)?"', line):
            ones += value
    return count, ones


async def _burst(url: str, n: int) -> list[int]:
    photos = [synthetic_lesion_photo(200, 150, seed=100 + i) for i in range(n)]
    endpoints = ["/diagnose", "/classify", "/segment", "/diagnose"]
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        responses = await asyncio.gather(*(
            client.post(endpoints[i % len(endpoints)], files={"image": ("p.jpg", photo, "image/jpeg")})
            for i, photo in enumerate(photos)))
    return [r.status_code for r in responses]


def test_32_concurrent_requests_are_batched(bento_service_url: str) -> None:
    for _ in range(3):  # BentoML's dispatcher sends its first few batches alone while it learns the timings
        statuses = asyncio.run(_burst(bento_service_url, 32))
        assert statuses == [200] * 32
        metrics = httpx.get(f"{bento_service_url}/metrics", timeout=30).text
        batched = {service: _batch_stats(metrics, service) for service in ("LesionClassifier", "LesionSegmenter")}
        if all(count > ones for count, ones in batched.values()):
            break
    for service, (count, ones) in batched.items():
        assert count > 0, f"no {BATCH_METRIC} for {service} in /metrics"
        assert count > ones, f"{service}: all {count:.0f} batches had size 1"
    assert 'endpoint="/diagnose",http_response_code="200"' in metrics
