"""``GET /info``: what the served models are, read at start-up from the BentoML store (no model runs)."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.service import synthetic_lesion_photo
from tests.service.conftest import post_image

pytestmark = pytest.mark.slow


def test_info_describes_the_served_models(service_client: httpx.Client) -> None:
    response = service_client.get("/info")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["synthetic"] is True
    by_name = {model["name"]: model for model in body["models"]}
    assert set(by_name) == {"skin-classifier", "skin-segmenter"}

    classifier = by_name["skin-classifier"]
    assert classifier["tag"] == f"skin-classifier:{classifier['version']}"
    assert classifier["task"] == "classification"
    assert classifier["arch"] == "resnet18" and classifier["encoder"] is None
    assert classifier["input_size"] == [32, 40]
    assert classifier["synthetic"] is True and classifier["training"]["synthetic"] is True
    assert classifier["triage_threshold"] == pytest.approx(0.3)
    assert classifier["temperature"] == pytest.approx(1.0)
    assert classifier["mask_threshold"] is None
    assert classifier["validation_metrics"] == {"balanced_accuracy": 0.0}
    assert classifier["test_metrics"] == {}
    assert classifier["mlflow_run_id"] == "tests-tiny"
    assert classifier["registry_version"] is None  # imported directly, not through the registry
    assert classifier["created_at"] and classifier["stored_at"]
    assert classifier["context"] == {"fields": ["age", "sex", "site"], "weight": 1.0, "fitted_on": 105}
    # The fixture's classifier carries an int8 network (tests/fixtures/service.py): the workers run it on the CPU.
    assert classifier["int8"] == {"served": True, "metric": "balanced_accuracy", "split": "fixture", "images": 8,
                                  "fp32": 0.0, "int8": 0.0, "limit": 0.01}

    segmenter = by_name["skin-segmenter"]
    assert segmenter["task"] == "segmentation"
    assert (segmenter["arch"], segmenter["encoder"], segmenter["input_size"]) == ("unet", "resnet18", [64, 64])
    assert segmenter["validation_metrics"] == {"dice": 0.0}
    assert segmenter["triage_threshold"] is None and segmenter["temperature"] is None
    assert segmenter["mask_threshold"] == pytest.approx(0.5)
    assert segmenter["context"] is None and segmenter["int8"] is None

    # The same versions the analysis endpoints report.
    diagnosis = post_image(service_client, "/diagnose", synthetic_lesion_photo(160, 120, seed=7))
    assert diagnosis.status_code == 200, diagnosis.text
    assert {m["tag"]: m["synthetic"] for m in diagnosis.json()["models"]} == \
        {m["tag"]: m["synthetic"] for m in body["models"]}


def test_info_is_read_only(service_client: httpx.Client) -> None:
    assert service_client.post("/info").status_code == 405
    assert service_client.head("/info").status_code == 200
    # The mount at "/" must not shadow the service's own routes.
    assert service_client.get("/readyz").status_code == 200
    assert service_client.get("/docs.json").status_code == 200
