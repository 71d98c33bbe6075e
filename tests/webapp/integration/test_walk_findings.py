"""What a new user's walk found (issue 30, item 5), each checked where the site renders it: "Follow this spot"
starts from the photo's body site and keeps what was typed on an error, shown in the form; a spot that changed says
so on My lesions and in the history; two photos of one day are told apart in the compare view; the Korean context
line names the back as a body part; a text-only community post that is too large is not told about "the photo"."""

from __future__ import annotations

import re
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import update

from tests.webapp.conftest import database, fake_result, post_form, register, store_rows

EMAIL = "walker@example.org"


async def _unattached(db_url: str):  # type: ignore[no-untyped-def]
    rows = await store_rows(db_url, EMAIL)
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:
        await session.execute(update(Diagnosis).where(Diagnosis.id == rows.diagnosis_id).values(lesion_id=None))
        await session.commit()
    return rows


async def test_follow_form_starts_from_the_site_and_keeps_the_typed_name(client, db_url):
    await register(client, EMAIL)
    rows = await _unattached(db_url)
    page = await client.get(f"/diagnoses/{rows.diagnosis_id}?site=forearm")
    assert page.status_code == 200
    assert '<option value="forearm" selected>' in page.text
    assert '<option value="back" selected>' not in page.text
    ignored = await client.get(f"/diagnoses/{rows.diagnosis_id}?site=nowhere")  # not a body site: nothing chosen
    sites = ignored.text.split('id="body_site"')[1].split("</select>")[0]
    assert ignored.status_code == 200 and " selected>" not in sites

    refused = await post_form(client, f"/diagnoses/{rows.diagnosis_id}", f"/diagnoses/{rows.diagnosis_id}/lesion",
                              {"lesion_id": "new", "new_lesion_name": "Mole by the elbow", "body_site": ""})
    assert refused.status_code == 400
    form = refused.text.split('id="attach-form"')[1].split("</form>")[0]
    assert 'value="Mole by the elbow"' in form  # the typed name is kept
    assert 'class="flash flash-error"' in form  # and the message sits in the form, not at the top of the page
    main_top = refused.text.split("<main")[1].split('id="attach-form"')[0]
    assert "flash-error" not in main_top


async def test_a_changed_spot_says_so_on_my_lesions_and_in_the_history(client, db_url):
    await register(client, EMAIL)
    first = await store_rows(db_url, EMAIL, result=fake_result(concerning=0.1))
    await store_rows(db_url, EMAIL, result=fake_result(concerning=0.6, level="high"), lesion_id=first.lesion_id)
    calm = await store_rows(db_url, EMAIL, result=fake_result(concerning=0.1))
    await store_rows(db_url, EMAIL, result=fake_result(concerning=0.12), lesion_id=calm.lesion_id)
    listing = (await client.get("/lesions")).text
    assert listing.count("changed-flag") == 1 and "Changed: worth showing a doctor" in listing
    history = (await client.get("/history")).text
    assert history.count('class="pill triage-high changed-flag"') == 2  # both photos of the changed spot
    korean = (await client.get("/lesions?lang=ko")).text
    assert "Changed: worth showing a doctor" not in korean and korean.count("changed-flag") == 1


async def test_two_photos_of_one_day_are_told_apart_in_the_compare_view(client, db_url):
    await register(client, EMAIL)
    first = await store_rows(db_url, EMAIL)
    second = await store_rows(db_url, EMAIL, lesion_id=first.lesion_id)
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:
        earlier = await session.get(Diagnosis, first.diagnosis_id)
        await session.execute(update(Diagnosis).where(Diagnosis.id == second.diagnosis_id).values(
            created_at=earlier.created_at + timedelta(minutes=5)))
        await session.commit()
    page = (await client.get(f"/lesions/{first.lesion_id}")).text
    head = re.search(r'<table class="compare-changes".*?</thead>', page, re.S).group(0)
    columns = re.findall(r'<th scope="col">([^<]*)</th>', head)
    assert len(columns) == 4 and columns[1] != columns[2], columns  # "07 Dec 2026, 10:00 UTC" / "…10:05 UTC"


async def test_korean_context_line_names_the_back_as_a_body_part():
    from skin_models.contract import PatientContextOut
    from webapp.core.i18n import set_current_language
    from webapp.diagnoses.wording import context_note

    given = PatientContextOut(age=62, sex="male", site="back", applied=True)
    set_current_language("ko")
    korean = context_note(given)
    set_current_language("en")
    english = context_note(given)
    assert korean.endswith("부위: 등.") and "남성, 등." not in korean
    assert english == "Weighed with the photo: age 62, male, back."


async def test_a_too_large_text_post_is_not_told_about_a_photo(make_app):
    app = await make_app(DRSKIN_MAX_UPLOAD_MB="0.5")
    async with AsyncTestClient(app=app) as client:
        await register(client, EMAIL)
        response = await post_form(client, "/community/new", "/community/posts",
                                   {"title": "Long", "body": "words " * 400_000})
        assert response.status_code == 413
        assert "too large" in response.text and "photo is too large" not in response.text.lower()
        assert "Shorten the text" in response.text
