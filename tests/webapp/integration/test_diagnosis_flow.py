"""The whole diagnosis flow against the real BentoML service (tiny synthetic models)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from tests.webapp.conftest import count_rows, database, post_form, register
from tests.webapp.images import GPS_IFD, lesion_photo

pytestmark = pytest.mark.slow


@pytest.fixture
async def live_client(make_app, service_url):
    app = await make_app(DRSKIN_SERVICE_URL=service_url)
    async with AsyncTestClient(app=app) as client:
        yield client


async def _diagnose(client, photo, page="/", lesion_id=""):
    data = {"lesion_id": lesion_id} if lesion_id else {}
    return await post_form(client, page, "/diagnose", data, files={"image": ("lesion.jpg", photo, "image/jpeg")})


async def test_anonymous_result_is_shown_and_not_stored(live_client, db_url):
    response = await _diagnose(live_client, lesion_photo(1600, 1200))
    assert response.status_code == 200, response.text[:500]
    page = response.text
    assert "not stored" in page and "data:image/jpeg;base64," in page
    assert 'id="outlined-photo"' in page and "<polygon points=" in page  # the site draws the outline itself
    assert 'id="heat-toggle"' in page and "<rect" in page  # the site asks for the map and draws it (hidden)
    assert 'href="/diseases/mel"' in page and "Not a diagnosis" in page
    assert "synthetic" in page.lower()  # the tiny test models are synthetic: the banner shows
    assert await count_rows(db_url) == {"users": 0, "photos": 0, "lesions": 0, "diagnoses": 0}


async def test_the_age_sex_and_body_site_given_reach_the_model_and_the_result_says_so(live_client, db_url):
    photo = lesion_photo(800, 600, seed=3)
    alone = await _diagnose(live_client, photo)
    assert alone.status_code == 200 and "Judged from the photo alone" in alone.text
    given = await post_form(live_client, "/", "/diagnose", {"age": "80", "sex": "female", "body_site": "face"},
                            files={"image": ("lesion.jpg", photo, "image/jpeg")})
    assert given.status_code == 200, given.text[:500]
    assert "Weighed with the photo: age 80, female, face." in given.text
    for field, value, words in (("age", "abc", "whole years"), ("age", "130", "whole years"),
                                ("sex", "robot", "female or male"), ("body_site", "elbow", "from the list")):
        refused = await post_form(live_client, "/", "/diagnose", {field: value},
                                  files={"image": ("lesion.jpg", photo, "image/jpeg")})
        assert refused.status_code == 400 and words in refused.text
    assert await count_rows(db_url) == {"users": 0, "photos": 0, "lesions": 0, "diagnoses": 0}


async def test_an_accounts_age_and_sex_and_a_lesions_site_are_what_the_model_weighs(live_client, db_url):
    from datetime import UTC, datetime

    from webapp.db.models import Diagnosis

    await register(live_client, "context@example.org")
    home = await live_client.get("/")
    assert 'id="body_site"' in home.text and 'id="age"' not in home.text  # the account keeps age and sex
    await post_form(live_client, "/account", "/account/about",
                    {"birth_year": str(datetime.now(UTC).year - 70), "sex": "male"})
    first = await post_form(live_client, "/", "/diagnose", {"body_site": "forearm", "age": "5"},
                            files={"image": ("lesion.jpg", lesion_photo(800, 600, seed=4), "image/jpeg")})
    result_url = first.headers["location"]
    assert '<option value="forearm" selected>' in (await live_client.get(result_url)).text  # Follow this spot
    attached = await post_form(live_client, result_url, f"{result_url}/lesion",
                               {"lesion_id": "new", "new_lesion_name": "shin", "body_site": "lower_leg"})
    lesion_id = attached.headers["location"].rsplit("/", 1)[1]
    # the lesion's own site wins over the form's
    await post_form(live_client, "/", "/diagnose", {"lesion_id": lesion_id, "body_site": "face"},
                    files={"image": ("lesion.jpg", lesion_photo(800, 600, seed=5), "image/jpeg")})
    async with database(db_url) as session:
        rows = (await session.execute(Diagnosis.__table__.select().order_by(Diagnosis.created_at))).all()
    contexts = [{key: row.result["classification"]["patient_context"][key] for key in ("age", "sex", "site", "applied")}
                for row in rows]
    assert contexts == [{"age": 70.0, "sex": "male", "site": "upper extremity", "applied": True},
                        {"age": 70.0, "sex": "male", "site": "lower extremity", "applied": True}]
    page = await live_client.get(result_url)
    assert "Weighed with the photo: age 70, male, arm." in page.text


async def _kept_rows(db_url: str) -> int:
    from sqlalchemy import func, select

    from webapp.db.models import KeyValueItem

    async with database(db_url) as session:
        return int(await session.scalar(select(func.count()).select_from(KeyValueItem)
                                        .where(KeyValueItem.namespace == "pending_results")) or 0)


async def test_an_anonymous_result_kept_on_request_is_saved_by_signing_up_and_only_then(live_client, db_url):
    from http.cookies import SimpleCookie

    from webapp.db.models import Diagnosis

    photo = lesion_photo(800, 600, seed=6)
    forgotten = await post_form(live_client, "/", "/diagnose", {},
                                files={"image": ("lesion.jpg", photo, "image/jpeg")})
    assert forgotten.status_code == 200 and 'id="not-stored"' in forgotten.text
    assert "drskin_pending" not in forgotten.headers.get("set-cookie", "")
    assert await _kept_rows(db_url) == 0  # without the tick nothing is written anywhere

    kept = await post_form(live_client, "/", "/diagnose", {"keep": "yes"},
                           files={"image": ("lesion.jpg", photo, "image/jpeg")})
    assert kept.status_code == 200 and 'id="kept-for-signup"' in kept.text
    cookies = [SimpleCookie(header) for header in kept.headers.get_list("set-cookie")]
    pending = next(c["drskin_pending"] for c in cookies if "drskin_pending" in c)
    assert pending.value and pending["httponly"] and int(pending["max-age"]) == 1800
    assert await _kept_rows(db_url) == 1
    assert await count_rows(db_url) == {"users": 0, "photos": 0, "lesions": 0, "diagnoses": 0}

    registered = await register(live_client, "kept@example.org")
    assert registered.headers["location"].startswith("/diagnoses/")
    page = await live_client.get(registered.headers["location"])
    assert page.status_code == 200 and "saved to your account" in page.text
    async with database(db_url) as session:
        rows = (await session.execute(Diagnosis.__table__.select())).all()
    assert len(rows) == 1 and rows[0].result["verdict"] == "ok" and rows[0].result["result_version"] == 2
    assert await _kept_rows(db_url) == 0  # claimed: gone from the store
    # logging in elsewhere later saves nothing more
    await post_form(live_client, "/", "/logout", {})
    again = await post_form(live_client, "/login", "/login", {"email": "kept@example.org",
                                                              "password": "correct horse 1"})
    assert again.headers["location"] == "/"
    assert (await count_rows(db_url))["diagnoses"] == 1


async def test_logged_in_flow_stores_clean_photo_history_lesion_export(live_client, db_url):
    from webapp.db.models import Diagnosis, Photo

    await register(live_client, "flow@example.org")
    first = await _diagnose(live_client, lesion_photo(2000, 1500, seed=1))
    assert first.status_code in (302, 303), first.text[:500]
    result_url = first.headers["location"]
    page = await live_client.get(result_url)
    assert page.status_code == 200 and "/photos/" in page.text and "Not a diagnosis" in page.text

    async with database(db_url) as session:
        diagnosis = (await session.execute(Diagnosis.__table__.select())).one()
        photo = await session.get(Photo, diagnosis.photo_id)
        assert diagnosis.overlay_id is None and diagnosis.model_versions  # no second, outlined copy of the photo
        assert not {"overlay_png", "mask_png", "mask_rle"} & set(diagnosis.result["segmentation"])
        assert len(diagnosis.result["segmentation"]["outline"]) >= 3
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and max(stored.size) <= 1024
    assert not stored.getexif() and not stored.getexif().get_ifd(GPS_IFD)

    served = await live_client.get(f"/photos/{diagnosis.photo_id}")
    assert served.status_code == 200 and served.content == photo.data

    # Track it: a new lesion from the result page, then a second photo from the lesion page.
    attached = await post_form(live_client, result_url, f"{result_url}/lesion",
                               {"lesion_id": "new", "new_lesion_name": "left shoulder", "body_site": "back"})
    lesion_url = attached.headers["location"]
    second = await _diagnose(live_client, lesion_photo(900, 700, scale=1.3, seed=2), page=lesion_url,
                             lesion_id=lesion_url.rsplit("/", 1)[1])
    assert second.headers["location"] == lesion_url
    lesion_page = (await live_client.get(lesion_url)).text
    assert lesion_page.count('<figure>') >= 2 and "<polyline" in lesion_page and "How we flag a change" in lesion_page

    history = await live_client.get("/history")
    assert history.text.count('class="history-item"') == 2

    export = await live_client.get("/account/export")
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    names = archive.namelist()
    assert {"account.json", "lesions.json", "diagnoses.json"} <= set(names)
    rows = json.loads(archive.read("diagnoses.json"))
    assert len(rows) == 2 and all(row["photo"] in names and row["overlay"] is None for row in rows)

    deleted = await post_form(live_client, result_url, f"{result_url}/delete", {})
    assert deleted.status_code in (302, 303)
    assert (await live_client.get(result_url)).status_code == 404
    await post_form(live_client, "/history", "/history/delete-all", {"confirm": "yes"})
    counts = await count_rows(db_url)
    assert counts["diagnoses"] == 0 and counts["photos"] == 0 and counts["lesions"] == 1


async def test_service_rejections_reach_the_user(service_url):
    from webapp.core.service_client import PhotoRejected, ServiceClient, ServiceUnavailable
    from webapp.core.settings import ServiceSettings

    client = ServiceClient(ServiceSettings.given(url=service_url, timeout_s=20))
    try:
        assert await client.is_ready()
        with pytest.raises(PhotoRejected) as rejected:
            await client.diagnose(b"definitely not an image", filename="x.jpg")
        assert 400 <= rejected.value.status_code < 500 and rejected.value.message
    finally:
        await client.aclose()
    down = ServiceClient(ServiceSettings.given(url="http://127.0.0.1:1", timeout_s=2))
    try:
        with pytest.raises(ServiceUnavailable, match="try again in a minute"):
            await down.diagnose(lesion_photo())
        assert not await down.is_ready()
    finally:
        await down.aclose()


def _jpeg(pixels) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_a_photo_that_cannot_be_judged_gets_the_retake_screen_and_nothing_is_saved(live_client, db_url, lang):
    import numpy as np

    from training import ood

    await register(live_client, f"retake-{lang}@example.org")
    live_client.cookies.set("lang", lang)
    black = await _diagnose(live_client, _jpeg(np.zeros((600, 800, 3), np.uint8)))
    assert black.status_code == 200, black.text[:500]
    assert 'id="retake"' in black.text and 'data-verdict="retake"' in black.text
    assert 'data-code="too_dark"' in black.text and 'id="triage"' not in black.text
    # A picture of text (not a generated street scene: since the rule that a concerning lesion the segmenter finds is
    # never refused, the tiny synthetic models find one in it and judge it).
    text = next(image for kind, image in ood.generate(12, size=(800, 600), seed=3) if kind == "text")
    other = await _diagnose(live_client, _jpeg(text))
    assert 'data-verdict="not_a_lesion"' in other.text and 'data-code="not_skin_like"' in other.text
    if lang == "ko":
        assert "다시 찍어" in black.text and "피부 병변" in other.text
    else:
        assert "Please retake the photo" in black.text and "No skin spot recognised" in other.text
    counts = await count_rows(db_url)
    assert counts["diagnoses"] == 0 and counts["photos"] == 0


async def test_a_malformed_service_answer_is_an_error_not_an_invented_result() -> None:
    from skin_models.contract import DiagnoseResponse
    from tests.fixtures.contract import diagnose_answer
    from webapp.core.diagnosis_result import DiagnosisResult
    from webapp.core.service_client import ServiceUnavailable, read_answer

    good = diagnose_answer()  # a realistic answer, valid against the API contract
    result = read_answer(good)
    assert isinstance(result, DiagnosisResult) and result.label == "nv" and result.segmentation.mask_rle is None
    retake = read_answer({**good, "verdict": "retake", "verdict_reasons": ["blurred"], "classification": None,
                          "triage": None, "explanation": None})
    assert type(retake) is DiagnoseResponse and retake.verdict_reasons == ["blurred"]
    for bad in ({**good, "triage": None},  # no level: never an invented "medium"
                {**good, "triage": {**good["triage"], "level": "urgent"}},
                {k: v for k, v in good.items() if k != "verdict"},
                {**good, "classification": None},
                {**good, "segmentation": {**good["segmentation"], "outline": "a string"}},
                ["not", "a", "dict"]):
        with pytest.raises(ServiceUnavailable, match="cannot read"):
            read_answer(bad)
