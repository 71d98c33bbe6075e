"""A stored result the site cannot read (damaged, or written by a newer site before a rollback) costs only that one
diagnosis: the history, the spot's page, its PDF, a share link and a community post that shares it still open; the
diagnosis's own page says what happened instead of the generic error. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from tests.webapp.conftest import database, fake_result, register, store_rows
from tests.webapp.test_community import create_post

EMAIL = "rollback@example.org"


async def test_one_unreadable_result_costs_only_its_own_page(client, db_url, caplog):  # type: ignore[no-untyped-def]
    from webapp.db.models import Diagnosis

    await register(client, EMAIL)
    good = await store_rows(db_url, EMAIL, result=fake_result(label="nv"))
    damaged = await store_rows(db_url, EMAIL, lesion_id=good.lesion_id, result=fake_result(label="bkl"))
    newer = {**fake_result(label="bkl"), "result_version": 999}
    async with database(db_url) as session:
        await session.execute(update(Diagnosis).where(Diagnosis.id == damaged.diagnosis_id)
                              .values(result_document=newer))
        await session.commit()
    post = await create_post(client, "What is this spot?", diagnosis_id=str(damaged.diagnosis_id))
    control = await create_post(client, "And this one?", diagnosis_id=str(good.diagnosis_id))

    history = await client.get("/history")
    assert history.status_code == 200
    assert f"/diagnoses/{good.diagnosis_id}" in history.text and f"/diagnoses/{damaged.diagnosis_id}" in history.text
    lesion = await client.get(f"/lesions/{good.lesion_id}")
    assert lesion.status_code == 200
    assert f"/diagnoses/{good.diagnosis_id}" in lesion.text and f"/diagnoses/{damaged.diagnosis_id}" in lesion.text
    report = await client.get(f"/lesions/{good.lesion_id}/report.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    shared_post = await client.get(f"/community/posts/{post}")
    assert shared_post.status_code == 200 and "What is this spot?" in shared_post.text
    assert 'id="shared-diagnosis"' not in shared_post.text  # the post, without the result it cannot read
    shown = await client.get(f"/community/posts/{control}")
    assert 'id="shared-diagnosis"' in shown.text and 'id="shared-probabilities"' in shown.text

    readable = await client.get(f"/diagnoses/{good.diagnosis_id}")
    assert readable.status_code == 200
    own_page = await client.get(f"/diagnoses/{damaged.diagnosis_id}")
    assert own_page.status_code == 500
    assert "This saved result cannot be shown" in own_page.text and "Your other results are safe" in own_page.text
    korean = await client.get(f"/diagnoses/{damaged.diagnosis_id}?lang=ko")
    assert korean.status_code == 500 and "This saved result cannot be shown" not in korean.text
    assert any("unreadable" in record.getMessage() and "999" in record.getMessage() for record in caplog.records)
