"""The public API of ``service:DrSkin`` against a real ``bentoml serve`` subprocess on tiny models."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from skin_models.labels import CLASS_CODES
from skin_models.postprocess import rle_decode
from tests.fixtures.service import synthetic_lesion_mask, synthetic_lesion_photo
from tests.service.conftest import decode_png, iou, post_image

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 320, 240


def test_health_endpoints(service_client: httpx.Client) -> None:
    assert service_client.get("/livez").status_code == 200
    assert service_client.get("/readyz").status_code == 200
    metrics = service_client.get("/metrics")
    assert metrics.status_code == 200
    assert "bentoml_service_request_total" in metrics.text


def test_classify(service_client: httpx.Client) -> None:
    response = post_image(service_client, "/classify", synthetic_lesion_photo(WIDTH, HEIGHT, seed=1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["probabilities"]) == set(CLASS_CODES)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= p <= 1.0 for p in body["probabilities"].values())
    top3 = body["top3"]
    assert [t["probability"] for t in top3] == sorted((t["probability"] for t in top3), reverse=True)
    assert body["label"] == top3[0]["label"] == max(body["probabilities"], key=body["probabilities"].get)
    assert body["label_name"] and top3[0]["label_name"] == body["label_name"]
    assert body["model"]["name"] == "skin-classifier"
    assert body["model"]["tag"] == f"skin-classifier:{body['model']['version']}"
    assert body["synthetic_model"] is True


def test_classify_looks_at_the_lesion_the_segmenter_found(service_client: httpx.Client) -> None:
    """The served answer is the local pipeline's: segment → crop around the mask → classify (lesion_crop)."""
    from skin_models.imaging import decode_image
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor
    from tests.fixtures.service import tiny_bundle_cache

    bundles = tiny_bundle_cache() / "onnx"
    classifier = ClassifierPredictor(bundles / "classifier", device="cpu")
    segmenter = SegmenterPredictor(bundles / "segmenter", device="cpu")
    assert classifier.needs_lesion_mask
    for seed in (4, 5):
        data = synthetic_lesion_photo(WIDTH, HEIGHT, seed=seed)
        photo = decode_image(data)
        mask = segmenter.predict_masks([photo])[0]
        assert mask.any() and not mask.all()
        expected = classifier.predict_proba([photo], [mask])[0]
        whole = classifier.predict_proba([photo], [np.zeros_like(mask)])[0]  # an empty mask: the whole photo
        # The tiny classifier is untrained (near-uniform answers), so differences are small but far above noise.
        assert np.abs(expected - whole).max() > 2e-5  # the crop does change the input
        for endpoint in ("/classify", "/diagnose"):
            body = post_image(service_client, endpoint, data).json()
            served = body["probabilities"] if endpoint == "/classify" else body["classification"]["probabilities"]
            np.testing.assert_allclose([served[c] for c in CLASS_CODES], expected, rtol=0, atol=2e-6)


def test_segment_mask_lands_on_the_lesion(service_client: httpx.Client) -> None:
    for seed in (2, 3):
        photo = synthetic_lesion_photo(WIDTH, HEIGHT, seed=seed)
        response = service_client.post("/segment", files={"image": ("photo.jpg", photo, "image/jpeg")},
                                       data={"images": "png"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["width"], body["height"]) == (body["original_width"], body["original_height"]) == (WIDTH, HEIGHT)
        mask_image = decode_png(body["mask_png"])
        assert mask_image.mode == "L" and mask_image.size == (WIDTH, HEIGHT)
        mask = np.asarray(mask_image)
        assert set(np.unique(mask)) <= {0, 255}
        assert iou(mask > 0, synthetic_lesion_mask(WIDTH, HEIGHT, seed=seed)) > 0.5
        assert decode_png(body["overlay_png"]).size == (WIDTH, HEIGHT)
        # the run-length mask is the same mask; the outline polygon runs along its edge
        np.testing.assert_array_equal(rle_decode(body["mask_rle"]), mask > 0)
        outline = np.asarray(body["outline"])
        assert len(outline) >= 8 and mask[outline[:, 1], outline[:, 0]].all()
        # without images=png the answer is the lean one
        lean = post_image(service_client, "/segment", photo).json()
        assert lean["mask_png"] is None and lean["overlay_png"] is None
        assert lean["mask_rle"] == body["mask_rle"] and lean["outline"] == body["outline"]
        assert len(response.content) > 5 * len(json.dumps(lean))
        assert body["lesion_found"] is True
        assert body["area_fraction"] == pytest.approx((mask > 0).mean(), abs=1e-6)
        box = body["bbox"]
        ys, xs = np.nonzero(mask)
        assert (box["x"], box["y"], box["width"], box["height"]) == (
            xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        measurements = body["measurements"]
        assert set(measurements) == {"area_fraction", "asymmetry", "border_irregularity", "colour_variegation",
                                     "diameter_px"}
        assert measurements["diameter_px"] > 0
        assert body["model"]["name"] == "skin-segmenter"


def test_exif_rotated_photo_gets_a_mask_aligned_with_the_rotated_view(service_client: httpx.Client) -> None:
    # What the camera stored is the scene turned 90° counter-clockwise; orientation 6 tells viewers to turn it back.
    view = Image.open(io.BytesIO(synthetic_lesion_photo(WIDTH, HEIGHT, seed=4)))
    stored = view.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    response = post_image(service_client, "/segment", buffer.getvalue())
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (WIDTH, HEIGHT)
    mask = rle_decode(body["mask_rle"])
    assert mask.shape == (HEIGHT, WIDTH)
    assert iou(mask, synthetic_lesion_mask(WIDTH, HEIGHT, seed=4)) > 0.5


def test_a_camera_sized_photo_is_worked_on_at_1024_px_and_says_both_sizes(service_client: httpx.Client) -> None:
    width, height = 2400, 1800
    response = post_image(service_client, "/diagnose", synthetic_lesion_photo(width, height, seed=2))
    assert response.status_code == 200, response.text
    segmentation = response.json()["segmentation"]
    assert (segmentation["original_width"], segmentation["original_height"]) == (width, height)
    assert (segmentation["width"], segmentation["height"]) == (1024, 768)
    mask = rle_decode(segmentation["mask_rle"])
    assert mask.shape == (768, 1024) and (np.asarray(segmentation["outline"]).max(axis=0) <= [1023, 767]).all()
    assert len(response.content) < 40_000  # the lean answer of a 1024-px photo (no PNGs, no explanation)
    truth = np.asarray(Image.fromarray(synthetic_lesion_mask(width, height, seed=2)).resize((1024, 768))) > 0
    assert iou(mask, truth) > 0.5
    box = segmentation["bbox"]
    assert box["x"] + box["width"] <= 1024 and box["y"] + box["height"] <= 768


def test_diagnose(service_client: httpx.Client) -> None:
    response = post_image(service_client, "/diagnose", synthetic_lesion_photo(WIDTH, HEIGHT, seed=5))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"verdict", "classification", "segmentation", "triage", "quality", "models", "disclaimer"}
    assert body["verdict"] == "ok"
    assert sum(body["classification"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert iou(rle_decode(body["segmentation"]["mask_rle"]),
               synthetic_lesion_mask(WIDTH, HEIGHT, seed=5)) > 0.5
    triage = body["triage"]
    assert triage["level"] in {"low", "medium", "high"}
    assert triage["reason"] and triage["advice"]
    probabilities = body["classification"]["probabilities"]
    assert triage["concerning_probability"] == pytest.approx(
        probabilities["mel"] + probabilities["bcc"] + probabilities["akiec"], abs=1e-6)
    assert 0 < triage["threshold"] < 1
    codes = [w["code"] for w in body["quality"]["warnings"]]
    # The tiny classifier is untrained: its best class has about 1/7 of the probability.
    assert "low_confidence" in codes
    assert all(w["message"] for w in body["quality"]["warnings"])
    assert [m["name"] for m in body["models"]] == ["skin-classifier", "skin-segmenter"]
    assert all(m["synthetic"] is True and m["tag"].endswith(m["version"]) for m in body["models"])
    assert "not a diagnosis" in body["disclaimer"] and "doctor" in body["disclaimer"]


def test_the_patients_context_weighs_into_the_answer(service_client: httpx.Client) -> None:
    photo = synthetic_lesion_photo(WIDTH, HEIGHT, seed=5)
    alone = service_client.post("/diagnose", files={"image": ("photo.jpg", photo, "image/jpeg")})
    old_face = service_client.post("/diagnose", files={"image": ("photo.jpg", photo, "image/jpeg")},
                                   data={"age": "80", "sex": "female", "site": "face"})
    young_back = service_client.post("/classify", files={"image": ("photo.jpg", photo, "image/jpeg")},
                                     data={"age": "25", "sex": "male", "site": "back"})
    assert alone.status_code == old_face.status_code == young_back.status_code == 200, old_face.text
    before = alone.json()["classification"]
    after = old_face.json()["classification"]
    assert before["patient_context"] == {"age": None, "sex": None, "site": None, **NOT_SAID, "applied": False}
    assert after["patient_context"] == {"age": 80.0, "sex": "female", "site": "face", **NOT_SAID, "applied": True}
    # The tiny model's context tables say an old face means akiec, a young back nv (tests/fixtures/service.py).
    assert after["probabilities"]["akiec"] > before["probabilities"]["akiec"] + 0.05
    assert young_back.json()["probabilities"]["nv"] > before["probabilities"]["nv"] + 0.05
    assert sum(after["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    triage = old_face.json()["triage"]
    assert triage["concerning_probability"] == pytest.approx(
        sum(after["probabilities"][c] for c in ("mel", "bcc", "akiec")), abs=1e-6)
    # Loose spellings of a known value are understood; a field left empty is simply not given.
    loose = service_client.post("/classify", files={"image": ("photo.jpg", photo, "image/jpeg")},
                                data={"site": "Lower_Extremity", "sex": "unknown", "age": ""})
    assert loose.status_code == 200, loose.text
    assert loose.json()["patient_context"] == {"age": None, "sex": None, "site": "lower extremity", **NOT_SAID,
                                               "applied": True}


NOT_SAID = {"changed": None, "grew": None, "bled": None, "itched": None, "hurt": None, "raised": None}


def test_the_persons_account_of_the_spot_is_echoed_and_a_bleeding_spot_is_never_low(
        service_client: httpx.Client) -> None:
    photo = synthetic_lesion_photo(WIDTH, HEIGHT, seed=5)
    told = service_client.post("/diagnose", files={"image": ("photo.jpg", photo, "image/jpeg")},
                               data={"bled": "true", "itched": "false"})
    assert told.status_code == 200, told.text
    body = told.json()
    assert body["classification"]["patient_context"]["bled"] is True
    assert body["classification"]["patient_context"]["itched"] is False
    assert body["classification"]["patient_context"]["changed"] is None
    assert body["triage"]["level"] != "low" and body["triage"]["red_flags"] == ["bled"]
    refused = service_client.post("/classify", files={"image": ("photo.jpg", photo, "image/jpeg")},
                                  data={"changed": "perhaps"})
    assert refused.status_code in (400, 422), refused.text
    assert "changed" in refused.text


@pytest.mark.parametrize(("field", "value", "words"), [("sex", "robot", "female, male"), ("age", "200", "0 to 120"),
                                                        ("site", "elbow", "upper extremity"),
                                                        ("age", "old", "age")])
def test_a_context_value_outside_the_vocabulary_is_a_clear_422(service_client: httpx.Client, field: str,
                                                               value: str, words: str) -> None:
    response = service_client.post("/diagnose", files={"image": ("photo.jpg", synthetic_lesion_photo(), "image/jpeg")},
                                   data={field: value})
    assert response.status_code == 422, response.text
    message = response.json()["error"]
    assert words in message and "optional" in message


def test_diagnose_warns_when_no_lesion_is_found(service_client: httpx.Client) -> None:
    rng = np.random.default_rng(0)
    skin = np.clip(np.array([215, 165, 130]) + rng.normal(0, 6, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(skin).save(buffer, format="PNG")
    response = post_image(service_client, "/diagnose", buffer.getvalue(), "skin.png", "image/png")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["segmentation"]["lesion_found"] is False
    assert body["segmentation"]["bbox"] is None
    assert "no_lesion_found" in [w["code"] for w in body["quality"]["warnings"]]
    # Bare skin: nothing to judge (its even colour is also far from lesion photos), so no label, no triage level.
    assert body["verdict"] in {"retake", "not_a_lesion"} and body["verdict_reasons"]
    assert body["classification"] is None and body["triage"] is None


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _text_render() -> np.ndarray:
    from training import ood

    return next(image for kind, image in ood.generate(12, size=(WIDTH, HEIGHT), seed=3) if kind == "text")


def _natural_photo() -> np.ndarray:
    from training import ood

    return next(image for kind, image in ood.generate(12, size=(WIDTH, HEIGHT), seed=3) if kind == "natural")


def _blurred_lesion() -> np.ndarray:
    from PIL import ImageFilter

    from tests.fixtures.service import _scene

    return np.asarray(Image.fromarray(_scene(WIDTH, HEIGHT, 6)[0]).filter(ImageFilter.GaussianBlur(4)))


@pytest.mark.parametrize(("name", "make", "verdicts", "reason"), [
    ("black", lambda: np.zeros((HEIGHT, WIDTH, 3), np.uint8), {"retake"}, "too_dark"),
    ("white", lambda: np.full((HEIGHT, WIDTH, 3), 255, np.uint8), {"retake"}, "too_bright"),
    ("text", _text_render, {"retake", "not_a_lesion"}, None),
    ("natural photo", _natural_photo, {"not_a_lesion"}, "not_skin_like"),
    ("blurred lesion", _blurred_lesion, {"retake"}, "blurred"),
])
def test_a_photo_that_cannot_be_judged_gets_no_verdict_position(service_client: httpx.Client, name: str,
                                                                 make: object, verdicts: set[str],
                                                                 reason: str | None) -> None:
    """Flat black, flat white, text, a street scene, a blurred lesion: never a label or a triage level."""
    photo = _png(make())  # type: ignore[operator]
    body = post_image(service_client, "/diagnose", photo, f"{name}.png", "image/png").json()
    assert body["verdict"] in verdicts, (name, body["verdict"], body["verdict_reasons"])
    if reason:
        assert reason in body["verdict_reasons"]
    assert body["classification"] is None and body["triage"] is None
    assert set(body["diagnostics"]["unjudged_probabilities"]) == set(CLASS_CODES)  # for API users who debug
    assert body["message"] and "no result" in body["message"].lower()
    classified = post_image(service_client, "/classify", photo, f"{name}.png", "image/png").json()
    assert classified["verdict"] == body["verdict"] or classified["verdict"] in verdicts
    assert classified["label"] is None and classified["probabilities"] is None and classified["top3"] is None


def test_a_plausible_lesion_photo_is_judged(service_client: httpx.Client) -> None:
    body = post_image(service_client, "/diagnose", synthetic_lesion_photo(WIDTH, HEIGHT, seed=8)).json()
    assert body["verdict"] == "ok" and body["verdict_reasons"] == []
    assert body["classification"]["label"] in CLASS_CODES and body["triage"]["level"] in {"low", "medium", "high"}
    diagnostics = body["diagnostics"]
    assert diagnostics["likeness_distance"] < diagnostics["likeness_threshold"]
    assert diagnostics["unjudged_probabilities"] is None


def test_openapi_documents_the_three_endpoints(service_client: httpx.Client) -> None:
    spec = service_client.get("/docs.json").json()
    for route, schema in (("/classify", "ClassifyResponse"), ("/segment", "SegmentResponse"),
                          ("/diagnose", "DiagnoseResponse")):
        post = spec["paths"][route]["post"]
        request = post["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert "image" in request["properties"] and request["required"] == ["image"]
        response = post["responses"]["200"]["content"]["application/json"]["schema"]
        assert response.get("title", "").startswith(schema) or schema in str(response)
    assert "probabilities" in spec["components"]["schemas"]["ClassifyResponse"]["properties"]
    for field in ("mask_png", "mask_rle", "outline"):
        assert spec["components"]["schemas"]["SegmentResponse"]["properties"][field]["description"]
    assert "/predict" not in spec["paths"]  # the internal batch APIs are not public


def test_the_api_document_tells_the_truth(service_client: httpx.Client) -> None:
    """Found by a review: /docs was 404, the title "DrSkin", the version "None", the description BentoML's README,
    and the responses 400/404/500 while the API answers 413, 415, 422 and 503 too."""
    import tomllib

    from tests.fixtures.service import REPO_ROOT

    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    spec = service_client.get("/docs.json").json()
    assert spec["info"]["title"] == "Dr. Skin analysis service" and spec["info"]["version"] == version
    assert "BentoML" not in spec["info"]["description"] and "not a diagnosis" in spec["info"]["description"]
    error_body = spec["components"]["schemas"]["ErrorResponse"]  # skin_models.contract.ErrorResponse
    assert error_body["required"] == ["error"]
    for route in ("/classify", "/segment", "/diagnose"):
        responses = spec["paths"][route]["post"]["responses"]
        assert set(responses) == {"200", "400", "413", "415", "422", "500", "503"}, (route, set(responses))
        for status in ("400", "413", "415", "422", "500", "503"):
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"}
            assert responses[status]["description"]
    page = service_client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "POST /diagnose" in page.text and "413" in page.text and "<script" not in page.text
    assert page.headers["content-security-policy"] == "default-src 'none'"


def test_explain_returns_the_top_class_map_over_the_region_the_classifier_saw(service_client: httpx.Client) -> None:
    """The map must line up with the photo as the service sees it: the upload carries an EXIF rotation, and the
    tiny classifier looks at a crop around the lesion (lesion_crop), so the map's box must be that crop."""
    from tests.fixtures.service import _scene

    upright, truth = _scene(WIDTH, HEIGHT, 9)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # shown upright by EXIF orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", quality=92, exif=exif)
    response = service_client.post("/diagnose", files={"image": ("rotated.jpg", buffer.getvalue(), "image/jpeg")},
                                   data={"explain": "true"})
    body = response.json()
    assert body["verdict"] == "ok", body["verdict_reasons"]
    assert (body["segmentation"]["width"], body["segmentation"]["height"]) == (WIDTH, HEIGHT)  # rotated upright
    explanation = body["explanation"]
    assert explanation["label"] == body["classification"]["label"]
    grid = np.asarray(explanation["grid"])
    assert grid.ndim == 2 and grid.min() >= 0 and grid.max() <= 1
    left, top, right, bottom = explanation["box"]
    assert 0 <= left < right <= WIDTH and 0 <= top < bottom <= HEIGHT
    ys, xs = np.nonzero(truth)
    assert left <= xs.mean() <= right and top <= ys.mean() <= bottom  # the crop is around the (upright) lesion
    assert explanation["inside_lesion"] is None or 0.0 <= explanation["inside_lesion"] <= 1.0
    plain = post_image(service_client, "/diagnose", buffer.getvalue()).json()
    assert plain["explanation"] is None  # only on request


def _classifier_passes(client: httpx.Client) -> float:
    """How many times the classifier worker's APIs have been called, whichever (its request counts in /metrics, less
    the health probes)."""
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if (line.startswith("bentoml_service_request_total{") and 'service_name="LesionClassifier"' in line
                and not any(f'endpoint="{probe}"' in line for probe in ("/readyz", "/livez", "/healthz", "/metrics"))):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_explain_runs_the_classifier_once_and_changes_nothing_else(service_client: httpx.Client) -> None:
    """The map comes from the pass that gave the answer (the served int8 network, its test-time views): asking for
    it costs no second pass, and the probabilities are the same with and without it."""
    photo = synthetic_lesion_photo(WIDTH, HEIGHT, seed=12)
    before = _classifier_passes(service_client)
    explained = service_client.post("/diagnose", files={"image": ("p.jpg", photo, "image/jpeg")},
                                    data={"explain": "true"})
    assert _classifier_passes(service_client) - before == 1
    plain = post_image(service_client, "/diagnose", photo)
    assert explained.status_code == plain.status_code == 200
    explained_body, plain_body = explained.json(), plain.json()
    assert explained_body["verdict"] == "ok" and explained_body["explanation"] is not None
    assert plain_body["explanation"] is None
    for code, probability in plain_body["classification"]["probabilities"].items():
        assert explained_body["classification"]["probabilities"][code] == pytest.approx(probability, abs=1e-9)
    info = service_client.get("/info").json()
    [classifier] = [m for m in info["models"] if m["task"] == "classification"]
    assert classifier["int8"]["served"]  # the answer and the map came from the int8 network
