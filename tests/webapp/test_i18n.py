"""English and Korean across the site: every page in both languages, language negotiation and the cookie, and a
catalogue with a Korean text for every message the code and the templates use."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.webapp.conftest import fake_result, post_form, register, store_rows

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "webapp"
PO_PATH = WEBAPP / "locales" / "ko" / "LC_MESSAGES" / "messages.po"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
EMAIL = "i18n@example.org"


def catalogue() -> Any:
    with PO_PATH.open("rb") as handle:
        return read_po(handle, locale="ko")


def msgids(catalog: Any) -> list[str]:
    """Every English text of the catalogue (singular and plural forms)."""
    texts: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        texts.extend([message.id] if isinstance(message.id, str) else list(message.id))
    return texts


def long_msgids() -> list[str]:
    """English sentences that must never show on a Korean page: msgids of more than three words, split at their
    placeholders (the filled-in parts differ) and markup, keeping pieces that still have more than three words."""
    pieces: set[str] = set()
    for msgid in msgids(catalogue()):
        for piece in re.split(r"%\(\w+\)[sd]|<[^>]+>", msgid):
            piece = piece.strip(" .,:;()“”")
            if len(piece.split()) > 3:
                pieces.add(piece)
    return sorted(pieces)


def visible_text(page: str) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, whitespace collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def has_route(app: Litestar, path: str) -> bool:
    return any(route.path == path for route in app.routes)


# ----------------------------------------------------------------------------------------------- the catalogue
def test_every_catalogue_message_has_a_korean_text_with_the_same_placeholders() -> None:
    catalog = catalogue()
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if "fuzzy" in message.flags or not all(s and s.strip() for s in strings):
            problems.append(f"untranslated or fuzzy: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
            if not HANGUL.search(text) and not re.fullmatch(r"[\W\d%()sd]*", text):
                problems.append(f"no Korean in the translation of {ids[0]!r}: {text!r}")
    assert not problems, "\n".join(problems)


def test_every_message_used_in_code_and_templates_is_in_the_catalogue() -> None:
    """Extract with Babel and the project's own babel.cfg (the documented ``pybabel extract`` does the same)."""
    with (WEBAPP / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    known = set(msgids(catalogue()))
    used: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(WEBAPP), method_map, options_map):
        for text in [message] if isinstance(message, str) else list(message):
            if text:
                used.setdefault(text, f"{filename}:{lineno}")
    assert len(used) > 150, "the extractor found too few messages: is babel.cfg right?"
    missing = {text: where for text, where in used.items() if text not in known}
    assert not missing, "not in webapp/locales/ko/LC_MESSAGES/messages.po (run pybabel update, then translate):\n" + \
        "\n".join(f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda item: item[1]))


def test_gettext_helpers() -> None:
    from webapp.core.i18n import gettext, negotiate, ngettext, normalize, parse_accept_language

    assert gettext("ko", "Log in") == "로그인"
    assert gettext("en", "Log in") == "Log in"
    assert gettext("fr", "Log in") == "Log in"
    assert gettext("ko", "Added to “%(name)s”.", name="점 A") == "“점 A”에 추가했습니다."
    assert ngettext("en", "%(num)d photo", "%(num)d photos", 1) == "1 photo"
    assert ngettext("en", "%(num)d photo", "%(num)d photos", 3) == "3 photos"
    assert ngettext("ko", "%(num)d photo", "%(num)d photos", 3) == "사진 3장"
    assert normalize("ko_KR") == "ko" and normalize("EN-gb") == "en" and normalize("de") is None
    assert parse_accept_language("en;q=0.5, ko-KR, fr;q=0") == ["ko_KR", "en"]
    assert negotiate("ko-KR,ko;q=0.9") == "ko"
    assert negotiate("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert negotiate("de-DE, ko;q=0.3") == "ko"
    assert negotiate("de, fr") is None
    assert negotiate("") is None


def test_result_view_uses_the_sites_own_texts_for_the_services_codes() -> None:
    """Triage advice, quality warnings, class names and the disclaimer come from the catalogue, by code."""
    from webapp.core.diagnosis_result import load_result
    from webapp.core.i18n import set_current_language
    from webapp.diagnoses.views import build_result_view
    from webapp.diagnoses.wording import QUALITY_MESSAGES

    result = fake_result(label="mel", concerning=0.7, level="high")
    result["triage"]["threshold"] = 0.3
    result["quality"]["warnings"] = [{"code": code, "message": f"service text for {code}"}
                                     for code in QUALITY_MESSAGES] + [{"code": "new_code", "message": "As sent."}]
    try:
        set_current_language("ko")
        view = build_result_view(load_result(result))
        assert view.label_name == "흑색종"
        assert {bar.name for bar in view.bars} >= {"흑색종", "기저세포암"}
        assert HANGUL.search(view.triage_advice) and HANGUL.search(view.triage_reason)
        assert HANGUL.search(view.disclaimer) and all(HANGUL.search(m.name) for m in view.measurements)
        messages = {w["code"]: w["message"] for w in view.warnings}
        assert all(HANGUL.search(messages[code]) for code in QUALITY_MESSAGES), messages
        assert "흑색종" in messages["low_confidence"]
        assert messages["new_code"] == "As sent."  # an unknown code keeps the service's text
        set_current_language("en")
        view = build_result_view(load_result(result))
        assert view.label_name == "Melanoma" and not HANGUL.search(view.triage_advice + view.disclaimer)
        assert "Melanoma is the most likely" in view.triage_reason
    finally:
        set_current_language("en")


# ---------------------------------------------------------------------------------------------------- the pages
@pytest.fixture
async def pages(client: AsyncTestClient[Litestar], app: Litestar, db_url: str) -> list[tuple[str, int]]:
    """A logged-in user with a lesion followed over two photos (flagged) and a diagnosis with quality warnings;
    the GET pages to check, with their expected status."""
    await register(client, EMAIL)
    await client.get("/")  # shows (and so drops) the welcome message, written in the language of the sign-up
    first = await store_rows(db_url, EMAIL, result=fake_result(concerning=0.1, area=0.2, level="low"))
    warned = fake_result(label="bcc", concerning=0.6, area=0.3, level="high")
    warned["triage"]["threshold"] = 0.3
    warned["quality"]["warnings"] = [{"code": "blurred", "message": "The photo looks blurred."},
                                     {"code": "low_confidence", "message": "The model is unsure."}]
    second = await store_rows(db_url, EMAIL, result=warned, lesion_id=first.lesion_id)
    paths = [("/", 200), ("/login", 200), ("/register", 200), ("/account", 200), ("/history", 200),
             ("/lesions", 200), (f"/lesions/{first.lesion_id}", 200), (f"/diagnoses/{second.diagnosis_id}", 200),
             ("/password/forgot", 200),
             (f"/diagnoses/{first.diagnosis_id}", 200), ("/no-such-page", 404)]
    for optional in ("/about", "/community"):
        if has_route(app, optional):
            paths.append((optional, 200))
    return paths


async def get(client: AsyncTestClient[Litestar], path: str, lang: str) -> Any:
    return await client.get(path, params={"lang": lang}, follow_redirects=False)


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_every_page_renders_in_both_languages(client: AsyncTestClient[Litestar], pages: list[tuple[str, int]],
                                                    lang: str) -> None:
    english = long_msgids()
    assert len(english) > 50
    for path, status in pages:
        response = await get(client, path, lang)
        assert response.status_code == status, (path, response.status_code, response.text[:300])
        page = response.text
        text = visible_text(page)
        assert f'<html lang="{lang}">' in page, path
        assert response.headers.get("content-language") == lang, path
        assert not PLACEHOLDER.search(page), f"{path}: an unfilled placeholder"
        # The switcher is on every page and points at this page.
        assert 'hreflang="ko"' in page or 'aria-current="true">한국어' in page, path
        assert 'hreflang="en"' in page or 'aria-current="true">EN' in page, path
        if lang == "ko":
            assert len(HANGUL.findall(text)) > 30, f"{path}: hardly any Korean"
            leftovers = [sentence for sentence in english if sentence in text or sentence in page]
            assert not leftovers, f"{path} shows English in Korean: {leftovers}"
        else:
            # Apart from the switcher's “한국어”, English pages carry no Korean (the user's data here is English).
            assert not HANGUL.search(text.replace("한국어", "")), f"{path}: Korean on an English page"


async def test_the_korean_result_page_translates_the_services_english(client: AsyncTestClient[Litestar],
                                                                       pages: list[tuple[str, int]]) -> None:
    diagnosis = next(path for path, _ in pages if path.startswith("/diagnoses/"))
    page = visible_text((await get(client, diagnosis, "ko")).text)
    assert "긴급도" in page and "진단이 아닙니다" in page
    assert "The photo looks blurred" not in page and "The model is unsure" not in page  # the service's words
    assert "사진이 흐려 보입니다" in page and "모델이 확신하지 못하고 있습니다" in page
    lesion = next(path for path, _ in pages if path.startswith("/lesions/"))
    page = visible_text((await get(client, lesion, "ko")).text)
    assert "이 병변에 변화가 있습니다" in page and "긴급도가 낮음에서 높음으로 올라갔습니다." in page


@pytest.mark.parametrize("path", ["/diseases", "/diseases/mel"])
async def test_disease_pages_in_both_languages(client: AsyncTestClient[Litestar], app: Litestar, path: str) -> None:
    if not has_route(app, "/diseases"):
        pytest.skip("the disease library's controller is not registered in webapp/app.py yet (the lead's job)")
    for lang in ("en", "ko"):
        response = await get(client, path, lang)
        assert response.status_code == 200, response.text[:300]
        assert f'<html lang="{lang}">' in response.text
        text = visible_text(response.text)
        if lang == "ko":
            assert HANGUL.search(text.replace("한국어", ""))
            leftovers = [sentence for sentence in long_msgids() if sentence in text]
            assert not leftovers, leftovers


# ------------------------------------------------------------------------------------------ choosing a language
@pytest.mark.parametrize(("header", "lang"), [("ko-KR,ko;q=0.9", "ko"), ("ko", "ko"),
                                              ("en-US,en;q=0.9,ko;q=0.8", "en"), ("de-DE,ko;q=0.5", "ko"),
                                              ("de, fr", "en"), ("", "en")])
async def test_accept_language_chooses(client: AsyncTestClient[Litestar], header: str, lang: str) -> None:
    response = await client.get("/login", headers={"Accept-Language": header} if header else {})
    assert f'<html lang="{lang}">' in response.text
    assert ("로그인" in response.text) == (lang == "ko")
    assert not any(value.startswith("lang=") for value in response.headers.get_list("set-cookie"))


async def test_query_parameter_switches_and_is_remembered(client: AsyncTestClient[Litestar]) -> None:
    korean = {"Accept-Language": "ko-KR,ko;q=0.9"}
    assert '<html lang="ko">' in (await client.get("/", headers=korean)).text

    response = await client.get("/", params={"lang": "en"}, headers=korean)
    assert '<html lang="en">' in response.text and "Check a skin spot" in response.text
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("lang="))
    assert cookie.startswith("lang=en;") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    # Remembered: the cookie beats Accept-Language on the next pages.
    for path in ("/login", "/register", "/no-such-page"):
        page = (await client.get(path, headers=korean)).text
        assert '<html lang="en">' in page, path

    await client.get("/register", params={"lang": "ko"})
    page = (await client.get("/login", headers={"Accept-Language": "en"})).text
    assert '<html lang="ko">' in page and "비밀번호" in page
    # An unknown language changes nothing.
    response = await client.get("/login", params={"lang": "xx"})
    assert '<html lang="ko">' in response.text
    assert not any(value.startswith("lang=") for value in response.headers.get_list("set-cookie"))


async def test_switcher_keeps_the_page_and_its_query(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/login", params={"next": "/history", "lang": "en"})).text
    assert 'href="/login?next=%2Fhistory&amp;lang=ko"' in page
    assert 'aria-current="true">EN<' in page


async def test_messages_from_python_follow_the_language(client: AsyncTestClient[Litestar]) -> None:
    """Form errors, flash messages and the log-in redirect's message."""
    await client.get("/", params={"lang": "ko"})
    response = await post_form(client, "/login", "/login", {"email": "nobody@example.org", "password": "wrong pass 1"})
    assert "이메일 또는 비밀번호가 올바르지 않습니다" in response.text
    response = await post_form(client, "/register", "/register",
                               {"email": "x", "password": "short", "password_confirm": "other"})
    assert "올바른 이메일 주소를 입력해 주세요" in response.text and "8자 이상" in response.text
    response = await client.get("/history", follow_redirects=True)
    assert "계속하려면 로그인해 주세요." in response.text
    await register(client, "flash@example.org")
    page = (await client.get("/")).text
    assert "Dr. Skin에 오신 것을 환영합니다." in page


async def test_error_pages_follow_the_cookie(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/", params={"lang": "ko"})
    response = await client.get("/no-such-page")
    assert response.status_code == 404 and "페이지를 찾을 수 없습니다" in response.text
    assert '<html lang="ko">' in response.text


async def test_concurrent_requests_keep_their_own_language(client: AsyncTestClient[Litestar]) -> None:
    """The language lives in a context variable per request, never in a global."""
    async def fetch(lang: str) -> tuple[str, str]:
        response = await client.get("/register", headers={"Accept-Language": lang})
        return lang, response.text

    for lang, page in await asyncio.gather(*(fetch(("ko", "en")[i % 2]) for i in range(20))):
        assert f'<html lang="{lang}">' in page
        assert ("계정 만들기" in page) == (lang == "ko")
        assert ("Create an account" in page) == (lang == "en")
