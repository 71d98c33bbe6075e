"""The PDF report for a doctor through HTTP: its text (read back with pypdf) in English and Korean, its images,
its headers, and that nobody but the owner gets it."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

from pypdf import PdfReader
from sqlalchemy import update

from tests.webapp.conftest import database, fake_result, register, store_rows

FIRST = datetime(2026, 10, 1, 21, 54, tzinfo=UTC)
LATEST = datetime(2026, 10, 31, 9, 5, tzinfo=UTC)
GREEN_OUTLINE = b"0.2392 1 0.6196 RG"  # the bright line of the outline, as fpdf2 writes its stroke colour


def _with_outline(result: dict) -> dict:
    result["segmentation"] |= {"width": 320, "height": 240, "outline": [[80, 60], [240, 60], [240, 180], [80, 180]]}
    return result


async def _spot(db_url: str, email: str, *, two: bool = True, name: str | None = None) -> tuple[uuid.UUID, list]:
    """A lesion with one or two diagnoses (concerning 0.10 → 0.45, area 0.20 → 0.30), dated FIRST and LATEST."""
    from webapp.db.models import Diagnosis, Lesion

    first = await store_rows(db_url, email, result=_with_outline(fake_result(concerning=0.10, area=0.20)))
    ids = [first.diagnosis_id]
    if two:
        latest = await store_rows(db_url, email, lesion_id=first.lesion_id,
                                  result=_with_outline(fake_result(concerning=0.45, area=0.30, level="high")))
        ids.append(latest.diagnosis_id)
    async with database(db_url) as session:
        for diagnosis_id, when in zip(ids, (FIRST, LATEST), strict=False):
            await session.execute(update(Diagnosis).where(Diagnosis.id == diagnosis_id).values(created_at=when))
        if name:
            await session.execute(update(Lesion).where(Lesion.id == first.lesion_id).values(name=name))
        await session.commit()
    return first.lesion_id, ids


def _pdf(response) -> tuple[str, PdfReader]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.content))
    # (percentages are written with no-break spaces, "15\xa0%": read as plain spaces here, see test_pure)
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " "), reader


async def test_lesion_report_in_english_holds_dates_probabilities_change_images_and_disclaimer(client, db_url):
    await register(client, "pdf-en@example.org")
    lesion_id, _ids = await _spot(db_url, "pdf-en@example.org")
    lesion_page = (await client.get(f"/lesions/{lesion_id}")).text
    assert f'href="/lesions/{lesion_id}/report.pdf"' in lesion_page

    response = await client.get(f"/lesions/{lesion_id}/report.pdf")
    text, reader = _pdf(response)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="drskin-lesion-arranged-') and ".pdf" in disposition

    assert "Dr. Skin · Report for your doctor" in text
    assert "01 Oct 2026, 21:54 UTC" in text and "31 Oct 2026, 09:05 UTC" in text
    assert "Photo 1 of 2: 01 Oct 2026, 21:54 UTC" in text
    # The seven classes with honest percentages (fake_result: melanoma 0.45 / 3 = 15 %, the benign ones 14 %).
    for name in ("Melanoma", "Melanocytic nevus", "Basal cell carcinoma", "Dermatofibroma", "Vascular lesion"):
        assert name in text
    assert "Melanoma 15 %" in text and "Melanocytic nevus 14 %" in text
    # The change between the visits, by the site's own rule.
    assert "This spot changed: worth showing a doctor." in text
    assert "The concerning probability rose by 35 percentage points (from 10 % to 45 %)." in text
    assert "The area grew by 50% since the first photo." in text and "Change, first to latest" in text
    assert "Urgency: high" in text and "Please see a dermatologist soon" in text
    assert "Border irregularity" in text and "skin-classifier, version t (synthetic)" in text
    # The disclaimer and the page number on every page.
    assert len(reader.pages) == 3
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert "Dr. Skin is not a diagnosis." in page_text and f"Page {number} of 3" in page_text
    # Both photos embedded, each with the outline drawn over it.
    assert [len(page.images) for page in reader.pages] == [0, 1, 1]
    for page in reader.pages[1:]:
        assert GREEN_OUTLINE in page.get_contents().get_data()


async def test_lesion_report_in_korean_with_a_korean_name(client, db_url):
    await register(client, "pdf-ko@example.org")
    lesion_id, _ids = await _spot(db_url, "pdf-ko@example.org", name="등 왼쪽 점")
    response = await client.get(f"/lesions/{lesion_id}/report.pdf?lang=ko")
    text, reader = _pdf(response)
    disposition = response.headers["content-disposition"]
    assert 'filename="drskin-lesion-' in disposition and disposition.isascii()
    assert "등 왼쪽 점" in unquote(disposition.split("filename*=UTF-8''", 1)[1])

    assert "의사에게 보여 줄 보고서" in text and "등 왼쪽 점" in text
    assert "2026. 10. 01. 21:54 UTC" in text and "2026. 10. 31. 09:05 UTC" in text
    assert "흑색종 15 %" in text and "멜라닌세포 모반(점) 14 %" in text
    assert "이 병변에 변화가 있습니다." in text and "주의 확률이 35%포인트 올랐습니다(10 % → 45 %)." in text
    assert "방문 사이의 변화" in text
    for page in reader.pages:
        assert "Dr. Skin의 결과는 진단이 아닙니다." in page.extract_text()
    font = reader.pages[0]["/Resources"]["/Font"]
    assert all("/ToUnicode" in ref.get_object() for ref in font.values())
    assert "Report for your doctor" not in text and "Change between visits" not in text


async def test_a_spot_with_one_photo_says_no_change_yet_and_a_diagnosis_has_its_own_report(client, db_url):
    await register(client, "pdf-one@example.org")
    lesion_id, (diagnosis_id,) = await _spot(db_url, "pdf-one@example.org", two=False)
    text, _reader = _pdf(await client.get(f"/lesions/{lesion_id}/report.pdf"))
    assert "Only one photo of this spot so far: a change can be measured from the second photo on." in text
    assert "This spot changed" not in text and "Change, first to latest" not in text

    result_page = (await client.get(f"/diagnoses/{diagnosis_id}")).text
    assert f'href="/diagnoses/{diagnosis_id}/report.pdf"' in result_page
    response = await client.get(f"/diagnoses/{diagnosis_id}/report.pdf")
    text, reader = _pdf(response)
    assert response.headers["content-disposition"] == 'attachment; filename="drskin-diagnosis-2026-10-01.pdf"'
    assert "01 Oct 2026, 21:54 UTC" in text and "arranged · Back" in text
    assert "Melanoma 3 %" in text and "Urgency: low" in text and "Dr. Skin is not a diagnosis." in text
    assert "Change between visits" not in text
    assert len(reader.pages) == 1 and len(reader.pages[0].images) == 1


async def test_reports_are_the_owners_only(client, db_url):
    lesion_id, (diagnosis_id, _latest) = await _spot(db_url, "pdf-owner@example.org")
    await register(client, "pdf-stranger@example.org")
    for path in (f"/lesions/{lesion_id}/report.pdf", f"/diagnoses/{diagnosis_id}/report.pdf",
                 f"/lesions/{uuid.uuid4()}/report.pdf"):
        response = await client.get(path)
        assert response.status_code == 404 and "%PDF" not in response.text
    client.cookies.clear()
    anonymous = await client.get(f"/lesions/{lesion_id}/report.pdf", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
