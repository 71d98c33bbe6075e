"""Share one spot with a doctor: the owner makes a 7- or 30-day link, sees it opened, revokes it; the link shows that
spot (page, photos, PDF) and nothing else, with no-referrer / no-store / noindex headers; expired and revoked links
are a 410 page; deleting the spot or the account ends its links; the export lists them without tokens.
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import select, update

from tests.webapp.conftest import database, post_form, register, store_rows

EMAIL = "sharer@example.org"
SHARED = re.compile(r'value="(http://[^"]+/shared/([A-Za-z0-9_\-]+))"')
PRIVATE_HEADERS = {"referrer-policy": "no-referrer", "cache-control": "no-store", "x-robots-tag": "noindex, nofollow"}


def _private(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in PRIVATE_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers.get(name))


async def _share(client, lesion_id, days: str = "7", context: bool = False):  # type: ignore[no-untyped-def]
    data = {"days": days, **({"include_context": "on"} if context else {})}
    return await post_form(client, f"/lesions/{lesion_id}", f"/lesions/{lesion_id}/share", data)


async def _arrange(client, db_url: str):  # type: ignore[no-untyped-def]
    await register(client, EMAIL)
    first = await store_rows(db_url, EMAIL)
    second = await store_rows(db_url, EMAIL, lesion_id=first.lesion_id)
    other = await store_rows(db_url, EMAIL)  # another spot of the same account
    async with database(db_url) as session:
        from webapp.db.models import Lesion

        await session.execute(update(Lesion).where(Lesion.id == first.lesion_id).values(name="Mole on the back"))
        await session.execute(update(Lesion).where(Lesion.id == other.lesion_id).values(name="Secret other spot"))
        await session.commit()
    return first, second, other


async def test_share_open_count_and_revoke(client, db_url):
    first, second, other = await _arrange(client, db_url)
    made = await _share(client, first.lesion_id)
    assert made.status_code == 200
    _private(made)
    _url, token = SHARED.search(made.text).groups()
    assert len(token) >= 43  # 256 bits
    from webapp.db.models import ShareLink

    async with database(db_url) as session:
        stored = (await session.scalars(select(ShareLink.token_hash))).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in json.dumps([str(s) for s in stored])

    owner_cookies = dict(client.cookies.items())
    client.cookies.clear()  # the doctor: no account, no cookies
    path = f"/shared/{token}"
    page = await client.get(path)
    assert page.status_code == 200 and "Mole on the back" in page.text
    _private(page)
    assert "Secret other spot" not in page.text and EMAIL not in page.text
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert f'src="{path}/photos/{first.overlay_id}"' in page.text and 'src="/photos/' not in page.text
    photo = await client.get(f"{path}/photos/{second.photo_id}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    _private(photo)
    outsider = await client.get(f"{path}/photos/{other.photo_id}")  # a photo of another spot of the same account
    assert outsider.status_code == 404
    _private(outsider)
    pdf = await client.get(f"{path}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    _private(pdf)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Mole on the back" in text and "Secret other spot" not in text and EMAIL not in text
    for private in (f"/lesions/{other.lesion_id}", "/history", "/account", f"/photos/{other.photo_id}",
                    f"/diagnoses/{other.diagnosis_id}"):
        response = await client.get(private, follow_redirects=False)
        assert response.status_code in (302, 303, 401, 404) and "Secret other spot" not in response.text
    await client.get(path)  # a second opening

    client.cookies.update(owner_cookies)
    lesion_page = await client.get(f"/lesions/{first.lesion_id}")
    assert "Opened 2 times" in lesion_page.text
    link_id = re.search(r'/share/([0-9a-f-]{36})/revoke', lesion_page.text).group(1)
    lesion_path = f"/lesions/{first.lesion_id}"
    revoked = await post_form(client, lesion_path, f"{lesion_path}/share/{link_id}/revoke", {})
    assert revoked.status_code in (302, 303)
    assert "No open links." in (await client.get(f"/lesions/{first.lesion_id}")).text

    client.cookies.clear()
    for target in (path, f"{path}/report.pdf", f"{path}/photos/{first.photo_id}"):
        gone = await client.get(target)
        assert gone.status_code == 410 and "revoked" in gone.text
        _private(gone)


async def test_expiry_durations_and_bad_input(client, db_url):
    first, _second, _other = await _arrange(client, db_url)
    before = datetime.now(UTC)
    thirty = await _share(client, first.lesion_id, "30")
    token = SHARED.search(thirty.text).group(2)
    from webapp.db.models import ShareLink

    async with database(db_url) as session:
        expires = await session.scalar(select(ShareLink.expires_at))
        assert timedelta(days=30) <= expires - before <= timedelta(days=30, minutes=5)
        await session.execute(update(ShareLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await session.commit()
    expired = await client.get(f"/shared/{token}")
    assert expired.status_code == 410 and "is over" in expired.text

    wrong = await _share(client, first.lesion_id, "365")
    assert wrong.status_code in (302, 303)
    assert "7 / 30 days" in (await client.get(f"/lesions/{first.lesion_id}")).text
    unknown = await client.get("/shared/" + "A" * 43)
    assert unknown.status_code == 404
    _private(unknown)

    # Someone else cannot share or revoke this account's spot.
    client.cookies.clear()
    await register(client, "stranger@example.org")
    assert (await _share(client, first.lesion_id)).status_code == 404


async def test_context_only_when_chosen_and_korean(client, db_url):
    first, _second, _other = await _arrange(client, db_url)
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:
        row = await session.scalar(select(Diagnosis).where(Diagnosis.lesion_id == first.lesion_id).limit(1))
        document = dict(row.result_document)
        document["classification"] = {**document["classification"],
                                      "patient_context": {"age": 62, "sex": "male", "site": "back", "applied": True}}
        row.result_document = document
        await session.commit()
    without = SHARED.search((await _share(client, first.lesion_id)).text).group(2)
    with_context = SHARED.search((await _share(client, first.lesion_id, context=True)).text).group(2)
    client.cookies.clear()
    assert "age 62" not in (await client.get(f"/shared/{without}")).text
    assert "age 62" in (await client.get(f"/shared/{with_context}")).text
    korean = await client.get(f"/shared/{with_context}?lang=ko")
    assert "읽기 전용" in korean.text and "62세" in korean.text


async def test_deleting_the_spot_or_the_account_ends_links_and_export_lists_them(client, db_url):
    first, _second, other = await _arrange(client, db_url)
    spot_token = SHARED.search((await _share(client, first.lesion_id)).text).group(2)
    account_token = SHARED.search((await _share(client, other.lesion_id)).text).group(2)
    export = await client.get("/account/export")
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        rows = json.loads(archive.read("share_links.json"))
        everything = b"".join(archive.read(name) for name in archive.namelist() if name.endswith(".json"))
    assert {r["lesion_id"] for r in rows} == {str(first.lesion_id), str(other.lesion_id)}
    assert spot_token.encode() not in everything
    assert hashlib.sha256(spot_token.encode()).hexdigest().encode() not in everything
    assert b"token" not in everything

    deleted = await post_form(client, f"/lesions/{first.lesion_id}", f"/lesions/{first.lesion_id}/delete", {})
    assert deleted.status_code in (302, 303)
    assert (await client.get(f"/shared/{spot_token}")).status_code == 404
    assert (await client.get(f"/shared/{account_token}")).status_code == 200

    gone = await post_form(client, "/account", "/account/delete", {"password": "correct horse 1", "confirm": "DELETE"})
    assert gone.status_code in (302, 303)
    assert (await client.get(f"/shared/{account_token}")).status_code == 404
    from webapp.db.models import ShareLink

    async with database(db_url) as session:
        assert (await session.scalars(select(ShareLink))).all() == []


async def test_share_pages_are_not_reachable_without_the_token(client: AsyncTestClient, db_url):  # type: ignore[type-arg]
    first, _second, _other = await _arrange(client, db_url)
    await _share(client, first.lesion_id)
    client.cookies.clear()
    for path in ("/shared/", "/shared/x", f"/shared/{first.lesion_id}"):
        response = await client.get(path)
        assert response.status_code == 404 and "Mole on the back" not in response.text
