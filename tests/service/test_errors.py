"""Client errors are 4xx with ``{"error": message}``, never 500s."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.bad_images import bad_image_corpus, oversized_bytes
from tests.fixtures.service import synthetic_lesion_photo
from tests.service.conftest import post_image

pytestmark = pytest.mark.slow

STATUS = {"empty": 400, "not_an_image": 400, "corrupt": 400, "too_many_bytes": 413, "too_many_pixels": 413,
          "unsupported_format": 415}
MAX_IMAGE_BYTES = 15 * 1024 * 1024


def _assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], str) and len(body["error"]) > 10
    return body["error"]


@pytest.mark.parametrize("case", sorted(bad_image_corpus()))
@pytest.mark.parametrize("endpoint", ["/classify", "/diagnose"])
def test_bad_images_get_4xx_with_a_message(service_client: httpx.Client, case: str, endpoint: str) -> None:
    data, code = bad_image_corpus()[case]
    _assert_error(post_image(service_client, endpoint, data, filename=f"{case}.jpg"), STATUS[code])


def test_segment_rejects_a_truncated_jpeg(service_client: httpx.Client) -> None:
    data, _ = bad_image_corpus()["truncated_jpeg"]
    message = _assert_error(post_image(service_client, "/segment", data), 400)
    assert "damaged" in message.lower() or "corrupt" in message.lower() or "truncated" in message.lower() or message


def test_too_many_bytes_is_413(service_client: httpx.Client) -> None:
    message = _assert_error(post_image(service_client, "/diagnose", oversized_bytes(MAX_IMAGE_BYTES)), 413)
    assert "MB" in message


def test_missing_image_field_is_422(service_client: httpx.Client) -> None:
    response = service_client.post("/classify", files={"photo": ("a.jpg", b"\xff\xd8\xff\xe0binary", "image/jpeg")})
    assert "'image'" in _assert_error(response, 422)
    response = service_client.post("/diagnose", data={"something": "else"}, files={"x": ("a.txt", b"x")})
    _assert_error(response, 422)


def test_urls_and_paths_are_never_fetched(service_client: httpx.Client) -> None:
    response = service_client.post("/classify", data={"image": "http://127.0.0.1:9/lesion.jpg"},
                                   files={"unused": ("u.txt", b"u")})
    assert "URL" in _assert_error(response, 400)
    response = service_client.post("/classify", json={"image": "/etc/passwd"})
    _assert_error(response, 415)
    response = service_client.post("/segment", content=b"http://127.0.0.1:9/x.jpg",
                                   headers={"content-type": "text/plain"})
    _assert_error(response, 415)


@pytest.mark.parametrize("age", ["nan", "NaN", "inf", "-inf", "200"])
def test_an_age_that_is_not_a_number_of_years_is_422(service_client: httpx.Client, age: str) -> None:
    """Found by a review: age=nan was taken silently as "not given" while age=inf was refused."""
    response = service_client.post("/diagnose", data={"age": age},
                                   files={"image": ("p.jpg", synthetic_lesion_photo(160, 120, 1), "image/jpeg")})
    assert "age" in _assert_error(response, 422)


def test_two_photos_in_one_request_are_refused(service_client: httpx.Client) -> None:
    """Found by a review: a second ``image`` part was dropped silently; which photo was judged?"""
    photo = synthetic_lesion_photo(160, 120, 1)
    response = service_client.post("/diagnose", files=[("image", ("a.jpg", photo, "image/jpeg")),
                                                       ("image", ("b.jpg", photo, "image/jpeg"))])
    assert "one photo per request" in _assert_error(response, 400)


def test_unknown_routes_and_methods_are_not_500(service_client: httpx.Client) -> None:
    assert service_client.get("/diagnose").status_code in {404, 405}
    assert service_client.post("/predict", files={"image": ("a.jpg", b"x")}).status_code == 404


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=XYZ", "multipart/form-data",
                                          "multipart/form-data; boundary="])
@pytest.mark.parametrize("endpoint", ["/classify", "/segment", "/diagnose"])
def test_a_malformed_multipart_body_is_400_not_500(service_client: httpx.Client, content_type: str,
                                                    endpoint: str) -> None:
    """Found by a probe: garbage under a multipart content type (with or without a boundary) answered 500."""
    response = service_client.post(endpoint, content=b"garbage \x00\xff not multipart",
                                   headers={"Content-Type": content_type})
    message = _assert_error(response, 400)
    assert "multipart/form-data" in message and "image" in message


def test_the_home_page_loads_nothing_from_elsewhere(service_client: httpx.Client) -> None:
    """Found by a probe: BentoML's index page at / carried a third-party tag-manager snippet."""
    page = service_client.get("/")
    assert page.status_code == 200 and "Dr. Skin analysis service" in page.text
    assert "googletagmanager" not in page.text and "<script" not in page.text
    assert page.headers["content-security-policy"] == "default-src 'none'"
    assert service_client.get("/docs.json").json()["paths"]["/diagnose"]  # the API document stays


def test_metrics_are_refused_to_addresses_outside_the_allowed_networks(tmp_path: object) -> None:
    """/metrics shares the public port: by default only loopback and private networks (a cluster's Prometheus)
    may read it. A server that allows only 10.0.0.0/8 refuses this (loopback) test client; the default server
    (test_health_endpoints) serves it."""
    import tempfile
    from pathlib import Path

    from tests.fixtures.service import BentoServer, register_tiny_models

    home = Path(tempfile.mkdtemp(prefix="drskin-metrics-", dir=str(tmp_path)))  # its own home: a second serve
    register_tiny_models(home)                                                # empties its home's metrics folder
    server = BentoServer(home, env={"DRSKIN_METRICS_ALLOW": "10.0.0.0/8"})
    url = server.start()
    try:
        refused = httpx.get(f"{url}/metrics", timeout=30)
        assert refused.status_code == 403 and "DRSKIN_METRICS_ALLOW" in refused.json()["error"]
        assert httpx.get(f"{url}/livez", timeout=30).status_code == 200
    finally:
        server.stop()
