"""Nobody sees or changes another person's diagnoses, lesions or photos: every id route, as another user
(404) and anonymously (redirect to log in)."""

from __future__ import annotations

import pytest

from tests.webapp.conftest import count_rows, post_form, register, store_rows
from tests.webapp.images import lesion_photo


def _routes(rows):
    d, lesion = rows.diagnosis_id, rows.lesion_id
    return [
        ("GET", f"/diagnoses/{d}", None),
        ("POST", f"/diagnoses/{d}/delete", {}),
        ("POST", f"/diagnoses/{d}/lesion", {"lesion_id": str(lesion)}),
        ("POST", f"/diagnoses/{d}/lesion", {"lesion_id": "new", "new_lesion_name": "x", "body_site": "back"}),
        ("GET", f"/photos/{rows.photo_id}", None),
        ("GET", f"/photos/{rows.overlay_id}", None),
        ("GET", f"/lesions/{lesion}", None),
        ("POST", f"/lesions/{lesion}/delete", {}),
        ("GET", f"/lesions/{lesion}/report.pdf", None),
        ("GET", f"/diagnoses/{d}/report.pdf", None),
    ]


async def _request(client, method, path, data):
    if method == "GET":
        return await client.get(path, follow_redirects=False)
    return await post_form(client, "/", path, data)


async def test_other_users_get_404_everywhere(client, db_url):
    owner = await store_rows(db_url, "owner@example.org")
    await register(client, "intruder@example.org")
    mine = await store_rows(db_url, "intruder@example.org")
    before = await count_rows(db_url)
    for method, path, data in _routes(owner):
        response = await _request(client, method, path, data)
        assert response.status_code == 404, (method, path, response.status_code)
    # Attaching my own diagnosis to their lesion, or uploading into their lesion, is also "not found".
    attach = await post_form(client, "/", f"/diagnoses/{mine.diagnosis_id}/lesion", {"lesion_id": str(owner.lesion_id)})
    assert attach.status_code == 404
    upload = await post_form(client, "/", "/diagnose", {"lesion_id": str(owner.lesion_id)},
                             files={"image": ("p.jpg", lesion_photo(), "image/jpeg")})
    assert upload.status_code == 404
    assert await count_rows(db_url) == before
    history = await client.get("/history")
    assert str(owner.diagnosis_id) not in history.text and str(mine.diagnosis_id) in history.text
    assert "arranged" in (await client.get("/lesions")).text
    assert str(owner.lesion_id) not in (await client.get("/lesions")).text


@pytest.mark.parametrize("path", ["/history", "/lesions", "/account", "/account/export"])
async def test_anonymous_pages_redirect_to_login(client, path):
    response = await client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=")


async def test_anonymous_id_routes_redirect_to_login(client, db_url):
    owner = await store_rows(db_url, "owner2@example.org")
    before = await count_rows(db_url)
    for method, path, data in [*_routes(owner), ("POST", "/history/delete-all", {"confirm": "yes"})]:
        response = await _request(client, method, path, data)
        assert response.status_code in (302, 303), (method, path, response.status_code)
        assert response.headers["location"].startswith("/login"), (method, path)
    assert await count_rows(db_url) == before


async def test_owner_sees_own_photo_privately(client, db_url):
    await register(client, "me@example.org")
    rows = await store_rows(db_url, "me@example.org")
    response = await client.get(f"/photos/{rows.photo_id}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"].startswith("private")
    page = await client.get(f"/diagnoses/{rows.diagnosis_id}")
    assert page.status_code == 200 and f"/photos/{rows.overlay_id}" in page.text


async def test_a_typed_new_lesion_name_is_never_dropped_for_the_menus_lesion(client, db_url):
    from tests.webapp.conftest import database
    from webapp.db.models import Diagnosis, Lesion

    await register(client, "two-answers@example.org")
    rows = await store_rows(db_url, "two-answers@example.org")
    page = f"/diagnoses/{rows.diagnosis_id}"
    both = await post_form(client, page, f"{page}/lesion", {"lesion_id": str(rows.lesion_id),
                                                             "new_lesion_name": "Back spot", "body_site": "back"})
    # The question comes back in the form itself (issue 30), with the typed name kept.
    assert both.status_code == 400
    form = both.text.split('id="attach-form"')[1].split("</form>")[0]
    assert "You typed a new name (“Back spot”)" in form and 'value="Back spot"' in form
    async with database(db_url) as session:
        assert await session.scalar(select_count(Lesion)) == 1  # no lesion made, none chosen silently
    # Choosing "+ a new lesion" with the name creates it and moves the photo there.
    made = await post_form(client, page, f"{page}/lesion", {"lesion_id": "new", "new_lesion_name": "Back spot",
                                                             "body_site": "back"})
    assert made.status_code in (302, 303) and made.headers["location"].startswith("/lesions/")
    async with database(db_url) as session:
        diagnosis = await session.get(Diagnosis, rows.diagnosis_id)
        lesion = await session.get(Lesion, diagnosis.lesion_id)
        assert lesion.name == "Back spot"


def select_count(model):
    from sqlalchemy import func, select

    return select(func.count()).select_from(model)
