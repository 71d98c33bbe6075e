"""The body map in headless Chromium at phone (390×844, a touch screen: taps, not a mouse) and desktop (1280×800)
sizes: a body site chosen on the map with the keyboard and by a click or tap, saved, the pins on "My lesions", the
list filtered by clicking (tapping) the map; screenshots in test-artifacts/screenshots/bodymap-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.fixtures.site import running_site
from tests.webapp.conftest import closed_port_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
PICKER = ".bodymap-picker"


@pytest.fixture
def site_without_service(tmp_path: Path) -> Iterator[str]:
    """The site alone: choosing a body site needs no analysis service."""
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}",
           "DRSKIN_SERVICE_URL": closed_port_url(), "DRSKIN_SECRET_KEY": "browser-test-" + "z" * 32,
           "DRSKIN_RATE_LIMIT_REGISTER": "100"}
    with running_site(env, tmp_path) as url:
        yield url


@pytest.fixture
async def sized_page(page, size: str) -> AsyncIterator[object]:
    """The desktop size in the usual page; the phone as a phone: a touch screen (taps send touch events, and the
    browser makes the click from the tap) in a mobile viewport."""
    width, height = SIZES[size]
    if size != "phone":
        await page.set_viewport_size({"width": width, "height": height})
        yield page
        return
    context = await page.context.browser.new_context(viewport={"width": width, "height": height}, has_touch=True,
                                                     is_mobile=True, device_scale_factor=2)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _press(locator, position: dict[str, float], *, touch: bool) -> None:
    """A tap on a touch screen, else a mouse click, at ``position`` within ``locator``."""
    if touch:
        await locator.tap(position=position)
    else:
        await locator.click(position=position)


async def _shot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"bodymap-{name}.png"), full_page=True)


async def _inside(page, inner: str, outer: str) -> bool:
    """Whether the centre of ``inner``'s box on the screen lies within ``outer``'s box."""
    a, b = await page.locator(inner).bounding_box(), await page.locator(outer).bounding_box()
    assert a and b
    cx, cy = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    return b["x"] <= cx <= b["x"] + b["width"] and b["y"] <= cy <= b["y"] + b["height"]


@pytest.mark.parametrize("size", SIZES)
async def test_choose_the_site_on_the_map_see_the_pins_and_filter(sized_page, site_without_service, size: str):
    url, page = site_without_service, sized_page
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # the touch events the map sees (the phone's taps must be real touches)
    await page.add_init_script("document.addEventListener('touchstart', e => (window.__touches ||= []).push("
                               "e.target.getAttribute('data-site')), true)")
    await page.goto(url + "/register")
    await page.fill("#email", f"map-{size}@example.org")
    await page.fill("#password", "browser pass 1")
    await page.fill("#password_confirm", "browser pass 1")
    await page.click("#register-form button[type=submit]")
    await page.wait_for_url(url + "/")

    # 1. with the keyboard: Tab from the select into the map until the back has the focus, then Space
    await page.goto(url + "/lesions")
    await page.wait_for_selector(f"{PICKER}:not([hidden])")
    assert await page.locator(f"{PICKER} .bodymap-part").count() > 30
    await page.fill("#name", "Mole by keyboard")
    await page.focus("#body_site")
    for _ in range(80):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("() => [document.activeElement.getAttribute('data-site'),"
                                      " document.activeElement.closest('.bodymap-view')?.dataset.view]")
        if focused == ["back", "back"]:
            break
    else:
        pytest.fail("Tab never reached the back on the map")
    await page.keyboard.press(" ")
    assert await page.input_value("#body_site") == "back"
    assert await page.input_value("input[name=map_side]") == "back"
    assert "Back" in (await page.text_content(f"{PICKER} .bodymap-status") or "")
    assert await page.get_attribute(f"{PICKER} .bodymap-part:focus", "aria-pressed") == "true"
    await _shot(page, f"{size}-1-keyboard")
    await page.keyboard.press("Tab")
    await page.click("#start-tracking")
    await page.wait_for_url("**/lesions/*")
    assert await page.input_value("#edit_body_site") == "back"
    # the lesion page shows the pin where it was put, ready to be moved
    assert await page.is_visible("#where .bodymap-view[data-view=back] .bodymap-marker")
    await _shot(page, f"{size}-lesion-page")

    # 2. by a click (a tap on the phone) on the person's left forearm, front view, a little below its middle
    await page.goto(url + "/lesions")
    await page.fill("#name", "Mole by click")
    forearm = f"{PICKER} .bodymap-view[data-view=front] .bodymap-part[data-site=forearm] >> nth=1"
    box = await page.locator(forearm).bounding_box()
    assert box and box["width"] > 4
    await _press(page.locator(forearm), {"x": box["width"] / 2, "y": box["height"] * 0.6}, touch=size == "phone")
    touches = await page.evaluate("() => window.__touches || []")
    assert touches == (["forearm"] if size == "phone" else []), touches
    assert await page.input_value("#body_site") == "forearm"
    assert await page.input_value("input[name=map_side]") == "front"
    x, y = float(await page.input_value("input[name=map_x]")), float(await page.input_value("input[name=map_y]"))
    assert 0.5 < x < 0.95 and 0.35 < y < 0.55, (x, y)  # facing us, the person's left is on our right
    assert await _inside(page, f"{PICKER} .bodymap-view[data-view=front] .bodymap-marker", forearm)
    await _shot(page, f"{size}-2-click")
    await page.click("#start-tracking")
    await page.wait_for_url("**/lesions/*")

    # 3. both pins on My lesions, each where it was put
    await page.goto(url + "/lesions")
    pins = page.locator("#lesion-map .bodymap-pin")
    assert await pins.count() == 2
    labels = sorted([await pins.nth(i).get_attribute("aria-label") or "" for i in range(2)])
    assert labels == ["1. Mole by click (Forearm)", "2. Mole by keyboard (Back)"]
    front_arms = "#lesion-map .bodymap-view[data-view=front] a[href='/lesions?region=upper-extremity']"
    assert await _inside(page, "#lesion-map .bodymap-pin[aria-label^='1.'] circle", f"{front_arms} >> nth=3")
    assert await _inside(page, "#lesion-map .bodymap-pin[aria-label^='2.'] circle",
                         "#lesion-map .bodymap-view[data-view=back] a[href='/lesions?region=back']")
    await _shot(page, f"{size}-3-pins")

    # 4. a click on the back of the map shows only the spots on the back
    back = page.locator("#lesion-map .bodymap-view[data-view=back] a[href='/lesions?region=back']")
    box = await back.bounding_box()
    assert box
    await _press(back, {"x": box["width"] / 2, "y": box["height"] * 0.8}, touch=size == "phone")  # beside the pin
    await page.wait_for_url("**/lesions?region=back")
    items = page.locator("#lesion-list li")
    assert await items.count() == 1 and "Mole by keyboard" in (await items.first.text_content() or "")
    assert await page.locator("#lesion-map .bodymap-pin").count() == 1
    assert await page.get_attribute("#region-filter a[aria-current=page]", "data-region") == "back"
    await _shot(page, f"{size}-4-filtered")
    await page.click("#region-filter a[data-region='upper extremity']")
    await page.wait_for_url("**/lesions?region=upper-extremity")
    assert "Mole by click" in (await page.text_content("#lesion-list") or "")
    await page.goto(url + "/lesions?lang=ko")
    assert await page.get_attribute("#lesion-map svg", "aria-label") == "신체 지도"
    await _shot(page, f"{size}-5-korean")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
