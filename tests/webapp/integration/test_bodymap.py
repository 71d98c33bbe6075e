"""The body map through HTTP: a spot created with a pin from the map, wrong pins refused with a 400 and a message,
the lesion list filtered by region, the pin moved on the lesion page and given with a photo's new lesion."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import select

from tests.webapp.conftest import database, post_form, register, store_rows
from webapp.lesions.bodymap import default_anchor, shapes_of


async def _lesion(db_url: str, name: str):
    from webapp.db.models import Lesion

    async with database(db_url) as session:
        return await session.scalar(select(Lesion).where(Lesion.name == name))


def _left_forearm_front() -> tuple[float, float]:
    shape = next(s for s in shapes_of("forearm", "front") if s.side == "left")
    x, y = shape.anchor
    return round(x / 200, 4), round(y / 440, 4)


async def test_a_spot_chosen_on_the_map_is_stored_with_its_pin_and_shown_on_my_lesions(client, db_url):
    await register(client, "map@example.org")
    x, y = _left_forearm_front()
    created = await post_form(client, "/lesions", "/lesions", {"name": "freckle", "body_site": "forearm",
                                                               "map_side": "front", "map_x": str(x), "map_y": str(y)})
    assert created.status_code in (302, 303), created.text[:500]
    lesion = await _lesion(db_url, "freckle")
    assert (lesion.body_site, lesion.map_side, lesion.map_x, lesion.map_y) == ("forearm", "front", x, y)

    listing = (await client.get("/lesions")).text
    pin = re.search(r'<a href="/lesions/([0-9a-f-]+)" class="bodymap-pin" aria-label="1\. freckle \(Forearm\)">'
                    r'<circle cx="([\d.]+)" cy="([\d.]+)"', listing)
    assert pin and pin.group(1) == str(lesion.id)
    assert (float(pin.group(2)), float(pin.group(3))) == (round(x * 200, 1), round(y * 440, 1))
    assert 'href="/lesions?region=upper-extremity"' in listing and 'data-region="upper extremity"' in listing
    # without JavaScript the form still has its select; the map waits hidden for the script
    assert '<select id="body_site" name="body_site" required>' in listing
    assert re.search(r'<div class="bodymap-picker" data-select="body_site"[^>]* hidden>', listing)
    assert '<script src="/static/js/bodymap.js" defer></script>' in listing

    home = (await client.get("/")).text  # the upload form's optional body site: the map, without a pin to keep
    assert 'data-select="body_site"' in home and 'name="map_side"' not in home

    korean = (await client.get("/lesions?lang=ko")).text
    assert 'aria-label="신체 지도"' in korean and "1. freckle (아래팔)" in korean


async def test_a_wrong_pin_is_a_400_with_a_message_and_nothing_is_stored(client, db_url):
    await register(client, "wrong-pin@example.org")
    cases = [({"map_side": "front", "map_x": "0.5", "map_y": "0.3"}, "not on the front view"),
             ({"map_side": "back", "map_x": "1.5", "map_y": "0.3"}, "from 0 to 1"),
             ({"map_side": "back", "map_x": "NaN", "map_y": "0.3"}, "from 0 to 1"),
             ({"map_side": "sideways", "map_x": "0.5", "map_y": "0.3"}, "front and a back"),
             ({"map_side": "back", "map_x": "0.5"}, "incomplete"),
             ({"map_side": "back", "map_x": "0.5", "map_y": "0.97"}, "not on the back")]
    for fields, message in cases:
        response = await post_form(client, "/lesions", "/lesions", {"name": "bad pin", "body_site": "back", **fields})
        assert response.status_code == 400, (fields, response.status_code)
        assert message in response.text and 'value="bad pin"' in response.text, fields
    assert await _lesion(db_url, "bad pin") is None


async def test_the_list_is_filtered_by_region(client, db_url):
    await register(client, "filter@example.org")
    for name, site in (("shoulder blade", "back"), ("wrist", "forearm"), ("nowhere", "other")):
        created = await post_form(client, "/lesions", "/lesions", {"name": name, "body_site": site})
        assert created.status_code in (302, 303)

    everything = (await client.get("/lesions")).text
    assert all(name in everything for name in ("shoulder blade", "wrist", "nowhere"))
    assert everything.count('class="bodymap-pin') == 2  # "other" has no place on the map; it is listed

    back = await client.get("/lesions?region=back")
    assert back.status_code == 200 and "shoulder blade" in back.text and "wrist" not in back.text
    assert back.text.count('class="bodymap-pin') == 1 and 'id="region-shown"' in back.text
    arm = (await client.get("/lesions?region=upper-extremity")).text
    assert "wrist" in arm and "shoulder blade" not in arm and 'aria-current="page">Arm (1)' in arm
    assert "nowhere" in (await client.get("/lesions?region=unknown")).text

    empty = await client.get("/lesions?region=foot")
    assert empty.status_code == 200 and 'id="region-empty"' in empty.text and "No spots in the region" in empty.text

    unknown = await client.get("/lesions?region=elbow")
    assert unknown.status_code == 400 and 'id="region-error"' in unknown.text
    assert "There is no body region “elbow”" in unknown.text and "wrist" in unknown.text
    korean = await client.get("/lesions?region=elbow&lang=ko")
    assert korean.status_code == 400 and "“elbow”" in korean.text and "There is no" not in korean.text


async def test_the_pin_is_moved_on_the_lesion_page(client, db_url):
    await register(client, "move@example.org")
    await post_form(client, "/lesions", "/lesions", {"name": "mover", "body_site": "back"})
    lesion = await _lesion(db_url, "mover")
    page = f"/lesions/{lesion.id}"
    assert 'id="site-form"' in (await client.get(page)).text

    wrong = await post_form(client, page, f"{page}/site", {"body_site": "face", "map_side": "back",
                                                           "map_x": "0.5", "map_y": "0.08"})
    assert wrong.status_code == 400 and "not on the back view" in wrong.text and f'href="{page}#where"' in wrong.text
    assert (await _lesion(db_url, "mover")).body_site == "back"

    x, y = _left_forearm_front()
    moved = await post_form(client, page, f"{page}/site", {"body_site": "forearm", "map_side": "front",
                                                           "map_x": str(x), "map_y": str(y)})
    assert moved.status_code in (302, 303)
    stored = await _lesion(db_url, "mover")
    assert (stored.body_site, stored.map_side, stored.map_x, stored.map_y) == ("forearm", "front", x, y)
    detail = (await client.get(page)).text
    # The stored pin reaches the form only through the map's script: without JavaScript the fields are empty.
    assert f'name="map_x" value="" data-stored="{x}"' in detail and '<option value="forearm" selected>' in detail

    # A form without JavaScript sends the same site without a pin: the pin stays.
    same = await post_form(client, page, f"{page}/site", {"body_site": "forearm", "map_side": "", "map_x": "",
                                                          "map_y": ""})
    assert same.status_code in (302, 303)
    stored = await _lesion(db_url, "mover")
    assert (stored.body_site, stored.map_side, stored.map_x, stored.map_y) == ("forearm", "front", x, y)

    # ... and another site from the list, again without a pin: the old pin, which belonged to the forearm, goes.
    cleared = await post_form(client, page, f"{page}/site", {"body_site": "hand", "map_side": "", "map_x": "",
                                                             "map_y": ""})
    assert cleared.status_code in (302, 303)
    stored = await _lesion(db_url, "mover")
    assert (stored.body_site, stored.map_side, stored.map_x, stored.map_y) == ("hand", None, None, None)

    other = await store_rows(db_url, "someone-else@example.org")
    assert (await post_form(client, page, f"/lesions/{other.lesion_id}/site", {"body_site": "hand"})).status_code == 404


async def test_a_photo_s_new_lesion_keeps_its_pin(client, db_url):
    await register(client, "attach-pin@example.org")
    rows = await store_rows(db_url, "attach-pin@example.org")
    anchor = default_anchor("buttocks")
    assert anchor is not None
    result_page = f"/diagnoses/{rows.diagnosis_id}"
    assert 'data-select="body_site"' in (await client.get(result_page)).text
    response = await post_form(client, result_page, f"{result_page}/lesion", {
        "lesion_id": "new", "new_lesion_name": "seat", "body_site": "buttocks", "map_side": anchor.view,
        "map_x": str(anchor.x), "map_y": str(anchor.y)})
    assert response.status_code in (302, 303)
    lesion = await _lesion(db_url, "seat")
    assert (lesion.map_side, lesion.map_x, lesion.map_y) == ("back", anchor.x, anchor.y)
    assert "seat" in (await client.get("/lesions?region=trunk")).text
    # the pin is part of the person's data export
    with zipfile.ZipFile(io.BytesIO((await client.get("/account/export")).content)) as archive:
        exported = {row["name"]: row for row in json.loads(archive.read("lesions.json"))}
    assert exported["seat"]["map_position"] == {"view": "back", "x": anchor.x, "y": anchor.y}
    assert exported["arranged"]["map_position"] is None
