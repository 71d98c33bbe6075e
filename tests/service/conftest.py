"""Helpers for the tests that drive the real ``bentoml serve`` subprocess (``bento_service_url``)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def service_client(bento_service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bento_service_url, timeout=60.0) as client:
        yield client


def post_image(client: httpx.Client, endpoint: str, data: bytes, filename: str = "photo.jpg",
               content_type: str = "image/jpeg") -> httpx.Response:
    return client.post(endpoint, files={"image": (filename, data, content_type)})


def decode_png(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
