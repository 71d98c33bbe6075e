"""The About page: what Dr. Skin is, the served models (from the service's ``GET /info``) and photo handling, in
English and Korean, with the real service up and with it down."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.webapp.conftest import SiteFactory, closed_port_url
from tests.webapp.test_i18n import HANGUL, PLACEHOLDER, long_msgids, visible_text


async def about(app: Litestar, lang: str) -> str:
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/about", params={"lang": lang})
    assert response.status_code == 200, response.text[:500]
    assert f'<html lang="{lang}">' in response.text
    return response.text


def assert_translated(page: str, lang: str) -> None:
    text = visible_text(page)
    assert not PLACEHOLDER.search(page), "an unfilled placeholder"
    if lang == "ko":
        leftovers = [sentence for sentence in long_msgids() if sentence in text or sentence in page]
        assert not leftovers, f"English on the Korean page: {leftovers}"
        assert len(HANGUL.findall(text)) > 200
    else:
        assert not HANGUL.search(text.replace("한국어", "")), "Korean on an English page"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_about_shows_the_served_models(make_app: SiteFactory, service_url: str, lang: str) -> None:
    info = httpx.get(f"{service_url}/info", timeout=30).json()
    tags = {m["name"]: m["tag"] for m in info["models"]}
    app = await make_app(DRSKIN_SERVICE_URL=service_url)
    page = await about(app, lang)
    assert_translated(page, lang)
    for tag in tags.values():
        assert tag in page
    # The classifier's and the segmenter's validation metrics as /info gives them (tiny models: 0.0).
    classifier = re.search(r'id="model-classification".*?</article>', page, re.S)
    segmenter = re.search(r'id="model-segmentation".*?</article>', page, re.S)
    assert classifier and segmenter
    assert re.search(r'data-metric="balanced_accuracy">.*?<td>0\.0 %</td>', classifier.group(0), re.S)
    assert re.search(r'data-metric="dice">.*?<td>0\.000</td>', segmenter.group(0), re.S)
    assert "0.30" in classifier.group(0)  # the triage threshold
    assert "40×32" in classifier.group(0) and "64×64" in segmenter.group(0)  # input sizes, width × height
    # the tiny classifier weighs age, sex and body site (weight 1, tables from 105 made-up records)
    assert re.search(r'id="context-card">[^<]*1\.00[^<]*105', classifier.group(0))
    assert 'id="context-card"' not in segmenter.group(0)
    assert 'id="synthetic-banner"' in page  # the tiny models are synthetic
    assert 'id="service-unavailable"' not in page
    if lang == "ko":
        assert "균형 정확도" in page and "시연용 모델입니다" in page and "지금 응답하는 모델" in page
    else:
        assert "Balanced accuracy" in page and "Dice overlap" in page and "not a diagnosis" in page
    # Always: the photo policy and when to see a doctor.
    assert 'id="photos"' in page and 'id="see-a-doctor"' in page
    assert '<a href="/about">' in page  # the nav link


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_about_renders_when_the_service_is_down(make_app: SiteFactory, lang: str) -> None:
    app = await make_app(DRSKIN_SERVICE_URL=closed_port_url())
    page = await about(app, lang)
    assert_translated(page, lang)
    assert 'id="service-unavailable"' in page
    assert 'id="model-classification"' not in page and 'id="synthetic-banner"' not in page
    assert 'id="photos"' in page and 'id="see-a-doctor"' in page and 'id="what-it-is"' in page
    text = visible_text(page)
    if lang == "ko":
        assert "분석 서비스를 사용할 수 없어" in text and "1024픽셀" in text
    else:
        assert "service is unavailable" in text and "1024 pixels" in text and "EXIF" in text


async def test_info_is_cached_by_the_client() -> None:
    from webapp.core.service_client import ServiceClient, ServiceUnavailable
    from webapp.core.settings import ServiceSettings

    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"models": [], "synthetic": False})

    client = ServiceClient(ServiceSettings.given(url="http://service", timeout_s=5),
                           transport=httpx.MockTransport(handler))
    try:
        assert (await client.info()).models == [] and not (await client.info()).synthetic
        assert calls == ["/info"]
    finally:
        await client.aclose()

    # an answer that is not the contract's is a service fault, said as unavailable (and logged), never a crash
    invalid = ServiceClient(ServiceSettings.given(url="http://service", timeout_s=5), transport=httpx.MockTransport(
        lambda request: httpx.Response(200, json={"models": [{"name": "x"}], "synthetic": False})))
    try:
        with pytest.raises(ServiceUnavailable):
            await invalid.info()
    finally:
        await invalid.aclose()

    down = ServiceClient(ServiceSettings.given(url=closed_port_url(), timeout_s=5))
    try:
        with pytest.raises(ServiceUnavailable):
            await down.info()
    finally:
        await down.aclose()


async def test_the_home_page_warns_of_demonstration_models_and_never_waits_on_a_dead_service(
        make_app: SiteFactory, service_url: str) -> None:
    app = await make_app(DRSKIN_SERVICE_URL=service_url)
    async with AsyncTestClient(app=app) as client:
        home = await client.get("/")
    assert home.status_code == 200 and 'id="synthetic-banner"' in home.text  # the tiny models are synthetic
    down = await make_app(DRSKIN_SERVICE_URL=closed_port_url())
    async with AsyncTestClient(app=down) as client:
        home = await client.get("/")
    assert home.status_code == 200 and 'id="synthetic-banner"' not in home.text and 'id="upload-form"' in home.text


def test_the_model_card_says_what_the_classifier_does_on_each_kind_of_photo() -> None:
    from skin_models.contract import ServedModel
    from webapp.pages.about import model_card

    measured = {"images": 102, "balanced_accuracy": 0.747, "mel_recall": 0.4, "malignant_sensitivity": 0.932,
                "malignant_specificity": 0.953, "malignant_auc": 0.974}
    served = ServedModel.model_validate({
        "name": "skin-classifier", "tag": "skin-classifier:abc", "version": "abc", "synthetic": False,
        "task": "classification", "created_at": "2026-12-07T07:40:00+00:00", "stored_at": None,
        "arch": "tf_efficientnet_lite0", "encoder": None, "input_size": [150, 200],
        "training": {"source": "ham10000-dev, pad-ufes-20-subset", "synthetic": False, "data_fingerprint": None,
                     "split_fingerprint": None, "images": {"train": 7825}, "epochs": 4},
        "validation_metrics": {"balanced_accuracy": 0.72}, "test_metrics": {}, "selection_metric": None,
        "mlflow_run_id": None, "registry_version": "2", "triage_threshold": 0.159, "temperature": 0.8,
        "mask_threshold": None,
        "context": {"fields": ["age", "sex", "site", "bled", "changed"], "weight": 0.7, "fitted_on": 7825},
        "photo_kinds": {"phone": {"temperature": 1.36, "triage_threshold": 0.357, "measured": measured},
                        "dermoscopic": {"temperature": 0.8, "triage_threshold": 0.159, "measured": None}}})
    card = model_card(served)
    assert [row.kind for row in card.photo_kinds] == ["dermoscopic", "phone"]
    dermoscopic, phone = card.photo_kinds
    assert phone.cancers_in_ten == 9 and phone.sensitivity == "93.2 %" and phone.specificity == "95.3 %"
    assert phone.images == 102 and phone.threshold == "0.36"
    assert dermoscopic.cancers_in_ten is None and dermoscopic.images is None  # not measured: said as unknown
    assert card.context_symptoms and card.data_source == "ham10000-dev, pad-ufes-20-subset"
    plain = model_card(served.model_copy(update={"photo_kinds": None, "context": None}))
    assert plain.photo_kinds == [] and not plain.context_symptoms
