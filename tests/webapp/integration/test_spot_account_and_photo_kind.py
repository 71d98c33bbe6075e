"""Issue 26, the site's side: the person's own account of the spot (the upload form's optional questions, sent to
the service, stored in the typed result, shown on the result page, the compare view and the PDF) and the kind of
photo (with what the model was measured to do on it, and a request for a better photo when a phone photo's answer
is unsure)."""

from __future__ import annotations

import io
import uuid

import pytest
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import update

from tests.fixtures.contract import PHOTO_KIND
from tests.webapp.conftest import database, fake_result, post_form, register, store_rows
from tests.webapp.images import lesion_photo

QUESTIONS = ("changed", "grew", "bled", "itched", "hurt", "raised")


@pytest.fixture
async def live_client(make_app, service_url):
    app = await make_app(DRSKIN_SERVICE_URL=service_url)
    async with AsyncTestClient(app=app) as client:
        yield client


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf", response.text[:300]
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


@pytest.mark.slow
async def test_the_persons_answers_reach_the_service_are_stored_and_shown_and_a_bleeding_spot_is_never_low(
        live_client, db_url):
    from webapp.db.models import Diagnosis

    await register(live_client, "answers@example.org")
    home = (await live_client.get("/")).text
    assert 'id="spot-questions"' in home and all(f'id="question-{name}"' in home for name in QUESTIONS)
    assert home.count('value="unknown" checked') == len(QUESTIONS)  # "don't know" unless the person says

    photo = lesion_photo(800, 600, seed=21)
    refused = await post_form(live_client, "/", "/diagnose", {"bled": "maybe"},
                              files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert refused.status_code == 400 and "yes, no or don" in refused.text

    answered = await post_form(live_client, "/", "/diagnose",
                               {"bled": "yes", "changed": "no", "itched": "unknown", "raised": "no"},
                               files={"image": ("spot.jpg", photo, "image/jpeg")})
    assert answered.status_code in (302, 303), answered.text[:500]
    result_url = answered.headers["location"]
    async with database(db_url) as session:
        row = (await session.execute(Diagnosis.__table__.select())).one()
    given = row.result["classification"]["patient_context"]
    assert (given["bled"], given["changed"], given["itched"], given["raised"], given["grew"]) == (
        True, False, None, False, None)
    assert row.result["result_version"] == 2
    assert row.triage_level != "low"  # the red-flag rule: a spot that bled is never "low"
    if row.result["triage"]["reason_code"] == "red_flag":
        assert row.result["triage"]["red_flags"] == ["bled"]

    page = (await live_client.get(result_url)).text
    assert 'id="spot-account"' in page and "What you told us about the spot" in page
    assert "<dt>Has it bled?</dt><dd>Yes</dd>" in page
    assert "<dt>Has it changed lately (size, shape or colour)?</dt><dd>No</dd>" in page
    assert "Does it itch?" not in page  # "don't know" is not an answer to show
    if row.result["triage"]["reason_code"] == "red_flag":
        assert "but you reported bleeding" in page and "never “low”" in page
    korean = (await live_client.get(f"{result_url}?lang=ko")).text
    assert "<dt>피가 났나요?</dt><dd>예</dd>" in korean

    text = _pdf_text(await live_client.get(f"{result_url}/report.pdf?lang=en"))
    assert "What you told us about the spot" in text and "Has it bled? Yes" in text


async def _phone_rows(db_url: str, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Two photos of one spot: a phone photo with an unsure answer and the person's account, then a dermoscopic
    one (arranged rows, as the service would have answered)."""
    from datetime import UTC, datetime, timedelta

    from webapp.db.models import Diagnosis

    phone = fake_result(concerning=0.2, level="medium")
    phone["photo_kind"] = PHOTO_KIND  # phone, 0.97, malignant sensitivity 0.9 on 102 test photos
    phone["classification"]["patient_context"].update(changed=True, grew=False)
    phone["quality"]["warnings"] = [{"code": "low_confidence", "message": "unsure"}]
    first = await store_rows(db_url, email, result=phone)
    dermoscopic = fake_result(concerning=0.1)
    dermoscopic["photo_kind"] = {"kind": "dermoscopic", "probability": 0.88,
                                 "measured": {**PHOTO_KIND["measured"], "malignant_sensitivity": 0.94,
                                              "images": 616}}
    dermoscopic["quality"]["warnings"] = [{"code": "close_call", "message": "either"}]
    second = await store_rows(db_url, email, result=dermoscopic, lesion_id=first.lesion_id)
    async with database(db_url) as session:
        await session.execute(update(Diagnosis).where(Diagnosis.id == first.diagnosis_id)
                              .values(created_at=datetime.now(UTC) - timedelta(days=30)))
        await session.commit()
    return first.diagnosis_id, second.diagnosis_id


async def test_the_photo_kind_what_it_was_measured_to_do_and_a_request_for_a_better_phone_photo(client, db_url):
    await register(client, "kind@example.org")
    phone_id, dermoscopic_id = await _phone_rows(db_url, "kind@example.org")

    phone = (await client.get(f"/diagnoses/{phone_id}")).text.replace("\xa0", " ")
    assert "Kind of photo: phone photo (97 % sure)" in phone
    assert "On phone photos like this one, Dr. Skin flags about 9 in 10 skin cancers (measured on 102" in phone
    assert 'id="closer-photo"' in phone and "through a dermoscope" in phone  # phone + unsure: ask for better
    assert "<dt>Has it changed lately (size, shape or colour)?</dt><dd>Yes</dd>" in phone

    dermoscopic = (await client.get(f"/diagnoses/{dermoscopic_id}")).text.replace("\xa0", " ")
    assert "Kind of photo: dermoscopic photo (through a dermoscope) (88 % sure)" in dermoscopic
    assert "On dermoscopic photos like this one, Dr. Skin flags about 9 in 10" in dermoscopic  # 0.94: never 10
    assert 'id="closer-photo"' not in dermoscopic and 'id="spot-account"' not in dermoscopic

    history = (await client.get("/history")).text.replace("\xa0", " ")
    assert "Kind of photo: phone photo (97 % sure)" in history and "dermoscopic photo" in history
    assert "Has it changed lately (size, shape or colour)? Yes · Has it grown? No" in history

    async with database(db_url) as session:
        from webapp.db.models import Diagnosis

        lesion_id = (await session.get(Diagnosis, phone_id)).lesion_id
    compare = (await client.get(f"/lesions/{lesion_id}")).text.replace("\xa0", " ")
    assert 'id="compare-earlier"' in compare
    earlier = compare.split('id="compare-earlier"')[1].split("</figure>")[0]
    assert "phone photo (97 % sure)" in earlier and "Has it changed lately (size, shape or colour)? Yes" in earlier

    text = _pdf_text(await client.get(f"/lesions/{lesion_id}/report.pdf"))
    assert "Kind of photo: phone photo (97 % sure)" in text and "flags about 9 in 10" in text
    assert "Has it changed lately (size, shape or colour)? Yes" in text
    korean = (await client.get(f"/diagnoses/{phone_id}?lang=ko")).text
    assert "휴대폰 사진" in korean and "10건 중 약 9건" in korean
