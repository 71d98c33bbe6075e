"""The disease library: seven pages in two languages, their wording checks, and the routes.

A small app with only the library's controller and the site's own Jinja configuration (the controller is not yet
registered in ``create_app``); one test also mounts it on the full site to check it lives with the site's
middleware and base template.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request
from litestar.testing import RequestFactory, TestClient
from pydantic import ValidationError

from skin_models.labels import LABELS, LesionGroup, get_label
from tests.webapp.conftest import create_schema
from webapp.core.labels import label_name
from webapp.diseases.content import DISEASE_PAGES, PAGES_DIR, ContentError, load_library, read_page_text
from webapp.diseases.controllers import DiseaseController
from webapp.diseases.i18n import request_language
from webapp.diseases.schemas import DiseasePage, has_hangul

CODES = [label.code for label in LABELS]
LANGS = ["en", "ko"]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
NOT_A_DIAGNOSIS = {"en": "not a diagnosis", "ko": "진단이 아닙니다"}
# Written out here rather than taken from the code under test: a wrong group must fail.
EXPECTED_GROUP = {"mel": "malignant", "bcc": "malignant", "akiec": "pre-malignant", "nv": "benign",
                  "bkl": "benign", "df": "benign", "vasc": "benign"}
GROUP_WORD = {"en": {"malignant": "Malignant", "pre-malignant": "Pre-malignant", "benign": "Benign"},
              "ko": {"malignant": "악성", "pre-malignant": "전암성", "benign": "양성"}}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    from webapp.app import _template_config

    app = Litestar(route_handlers=[DiseaseController], template_config=_template_config())
    with TestClient(app=app) as test_client:
        yield test_client


def get_page(client: TestClient[Litestar], path: str, lang: str) -> str:
    response = client.get(path, params={"lang": lang})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-language"] == lang
    return response.text


class _Blocks(HTMLParser):
    """Text of every <p>, <li>, <h1>-<h3> inside the <article>, and the sources section's links."""

    BLOCKS = frozenset({"p", "li", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__()
        self.article_depth = 0
        self.open: list[list[str]] = []
        self.blocks: list[str] = []
        self.section_ids: list[str | None] = []
        self.source_links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "article":
            self.article_depth += 1
        if tag == "section":
            self.section_ids.append(attributes.get("id"))
        if self.article_depth and tag in self.BLOCKS:
            self.open.append([])
        if tag == "a" and "sources" in self.section_ids:
            self.source_links.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if self.article_depth and tag in self.BLOCKS and self.open:
            self.blocks.append(" ".join("".join(self.open.pop()).split()))
        if tag == "section" and self.section_ids:
            self.section_ids.pop()
        if tag == "article":
            self.article_depth -= 1

    def handle_data(self, data: str) -> None:
        for buffer in self.open:
            buffer.append(data)


def parse(html: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(html)
    return parser


def main_text(html: str) -> str:
    return " ".join(parse(html).blocks)


# --- every page, both languages ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("code", CODES)
def test_page_renders_with_the_label_name_and_group(client: TestClient[Litestar], code: str, lang: str) -> None:
    html = get_page(client, f"/diseases/{code}", lang)
    label = get_label(code)
    assert f"<h1>{label_name(label.code, lang)}</h1>" in html
    assert f"<title>{label_name(label.code, lang)} · Dr. Skin</title>" in html
    group = re.search(r'id="group">(.*?)</p>', html, re.S)
    assert group, "the group statement is missing"
    assert GROUP_WORD[lang][EXPECTED_GROUP[code]] in group.group(1)
    assert label.group.value == EXPECTED_GROUP[code]
    assert f'lang="{lang}"' in html.split("<article", 1)[1].split(">", 1)[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("code", CODES)
def test_page_has_at_least_two_checkable_sources(client: TestClient[Litestar], code: str, lang: str) -> None:
    links = parse(get_page(client, f"/diseases/{code}", lang)).source_links
    http_links = [link for link in links if re.match(r"https?://[^/\s]+\.[a-z]{2,}", link.get("href") or "")]
    assert len(http_links) >= 2
    assert all("noopener" in (link.get("rel") or "").split() for link in links)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/diseases", *[f"/diseases/{code}" for code in CODES]])
def test_every_page_says_it_is_not_a_diagnosis(client: TestClient[Litestar], path: str, lang: str) -> None:
    assert NOT_A_DIAGNOSIS[lang] in main_text(get_page(client, path, lang))


@pytest.mark.parametrize("path", ["/diseases", *[f"/diseases/{code}" for code in CODES]])
def test_korean_pages_have_no_untranslated_text(client: TestClient[Litestar], path: str) -> None:
    blocks = parse(get_page(client, path, "ko")).blocks
    assert len(blocks) > 5
    untranslated = [block for block in blocks if not HANGUL.search(block)]
    assert untranslated == []


@pytest.mark.parametrize("code", CODES)
def test_english_pages_are_english(client: TestClient[Litestar], code: str) -> None:
    korean_name = label_name(code, "ko")  # shown on purpose under the heading, for readers who know it
    blocks = [block.replace(korean_name, "") for block in parse(get_page(client, f"/diseases/{code}", "en")).blocks]
    # Korean only where a Korean source is cited (its title is given in the original).
    korean = [block for block in blocks if HANGUL.search(block) and "대한피부과학회" not in block
              and "국가암정보센터" not in block]
    assert korean == []


# --- the index and the routes --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_index_lists_all_seven_grouped(client: TestClient[Litestar], lang: str) -> None:
    html = get_page(client, "/diseases", lang)
    for label in LABELS:
        assert f'href="/diseases/{label.code}?lang={lang}">{label_name(label.code, lang)}</a>' in html
    sections = re.findall(r'<section class="disease-group" id="group-([a-z-]+)"(.*?)</section>', html, re.S)
    assert [group for group, _ in sections] == ["malignant", "pre-malignant", "benign"]
    for group, body in sections:
        listed = set(re.findall(r'id="disease-([a-z]+)"', body))
        assert listed == {code for code, expected in EXPECTED_GROUP.items() if expected == group}


def test_index_and_pages_answer_without_a_language_hint_in_english(client: TestClient[Litestar]) -> None:
    response = client.get("/diseases/mel")
    assert response.headers["content-language"] == "en"
    assert "Accept-Language" in response.headers["vary"]


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_code_is_a_helpful_404(client: TestClient[Litestar], lang: str) -> None:
    response = client.get("/diseases/scc", params={"lang": lang})
    assert response.status_code == 404
    for label in LABELS:
        assert f'href="/diseases/{label.code}?lang={lang}"' in response.text
    assert "“scc”" in response.text
    assert NOT_A_DIAGNOSIS[lang] in response.text


def test_unknown_code_is_escaped(client: TestClient[Litestar]) -> None:
    response = client.get("/diseases/<script>x")
    assert response.status_code == 404
    assert "<script>x" not in response.text


@pytest.mark.parametrize(("path", "target"), [("/diseases/MEL", "/diseases/mel"), ("/diseases/Bkl", "/diseases/bkl"),
                                              ("/diseases/AKIEC?lang=ko", "/diseases/akiec?lang=ko")])
def test_upper_case_codes_redirect_to_lower_case(client: TestClient[Litestar], path: str, target: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == target
    assert client.get(path).status_code == 200


# --- the errors of the original project, and the dermoscopy --------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/diseases", *[f"/diseases/{code}" for code in CODES]])
def test_actinic_is_spelled_right(client: TestClient[Litestar], path: str, lang: str) -> None:
    text = get_page(client, path, lang).lower()
    for misspelling in ("acitinic", "actinc", "actnic", "acinic", "actinick"):
        assert misspelling not in text
    if path.endswith("akiec") and lang == "en":
        assert "actinic keratosis" in text


def test_bkl_is_lentigo_seborrhoeic_and_lichenoid_keratosis_not_warts(client: TestClient[Litestar]) -> None:
    english = main_text(get_page(client, "/diseases/bkl", "en")).lower()
    assert re.search(r"seborrh(o)?eic keratosis", english)
    assert "solar lentigo" in english
    assert "lichen planus-like keratosis" in english
    assert "wart" not in english
    assert "solar keratosis" not in english
    korean = main_text(get_page(client, "/diseases/bkl", "ko"))
    for term in ("지루각화증", "일광흑자", "편평태선양 각화증"):
        assert term in korean
    assert "사마귀" not in korean  # wart


def test_vasc_is_angiomas_angiokeratomas_granulomas_and_haemorrhage_not_abscess(client: TestClient[Litestar]) -> None:
    english = main_text(get_page(client, "/diseases/vasc", "en")).lower()
    for term in ("angioma", "angiokeratoma", "pyogenic granuloma", "haemorrhage"):
        assert term in english
    assert "abscess" not in english
    korean = main_text(get_page(client, "/diseases/vasc", "ko"))
    for term in ("혈관종", "혈관각화종", "화농성 육아종", "출혈"):
        assert term in korean
    assert "농양" not in korean  # abscess


def test_akiec_is_actinic_keratosis_and_bowens_disease_in_situ(client: TestClient[Litestar]) -> None:
    english = main_text(get_page(client, "/diseases/akiec", "en"))
    for term in ("Actinic keratosis", "Bowen's disease", "in situ", "intraepithelial carcinoma", "Pre-malignant"):
        assert term in english
    korean = main_text(get_page(client, "/diseases/akiec", "ko"))
    for term in ("광선각화증", "보웬병", "상피내", "전암성"):
        assert term in korean


DERMOSCOPY = {
    "mel": ("atypical pigment network", "irregular streaks", "blue-white veil", "regression structures",
            "multiple colours"),
    "nv": ("regular pigment network", "globules", "symmetry"),
    "bcc": ("arborising vessels", "leaf-like areas", "blue-grey ovoid nests", "ulceration"),
    "akiec": ("strawberry pattern", "rosettes", "scale", "glomerular"),
    "bkl": ("milia-like cysts", "comedo-like openings", "fissures and ridges", "brain-like", "sharp demarcation",
            "moth-eaten border"),
    "df": ("central white patch", "pigment network", "dimple sign"),
    "vasc": ("lacunae",),
}


@pytest.mark.parametrize("code", CODES)
def test_dermoscopic_features_are_described(client: TestClient[Litestar], code: str) -> None:
    text = main_text(get_page(client, f"/diseases/{code}", "en")).lower()
    missing = [feature for feature in DERMOSCOPY[code] if feature not in text]
    assert missing == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("code", ["mel", "nv", "bkl"])
def test_pigmented_lesions_explain_abcde_and_the_ugly_duckling(client: TestClient[Litestar], code: str,
                                                               lang: str) -> None:
    text = main_text(get_page(client, f"/diseases/{code}", lang))
    assert "ABCDE" in text
    assert ("ugly duckling" if lang == "en" else "미운 오리 새끼") in text


# --- language choice and content validation ------------------------------------------------------------------


def _request(query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:  # type: ignore[type-arg]
    headers = {"accept-language": accept} if accept else {}
    pairs = (part.partition("=") for part in query.lstrip("?").split("&") if part)
    params: dict[str, str | list[str]] = {key: value for key, _, value in pairs}
    return RequestFactory().get("/diseases", headers=headers, cookies=f"lang={cookie}" if cookie else None,
                                query_params=params or None)


@pytest.mark.parametrize(("query", "cookie", "accept", "expected"), [
    ("", None, None, "en"),
    ("?lang=ko", None, None, "ko"),
    ("?lang=KO", None, None, "ko"),
    ("?lang=fr", None, None, "en"),
    ("", "ko", None, "ko"),
    ("?lang=en", "ko", "ko", "en"),
    ("", None, "ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
    ("", None, "en-GB,en;q=0.9,ko;q=0.5", "en"),
    ("", None, "fr-FR,ko;q=0.4", "ko"),
    ("", None, "ko;q=0", "en"),
    ("", "en", "ko", "en"),
])
def test_request_language(query: str, cookie: str | None, accept: str | None, expected: str) -> None:
    assert request_language(_request(query, cookie, accept)) == expected


def test_accept_language_header_picks_korean_pages(client: TestClient[Litestar]) -> None:
    response = client.get("/diseases/df", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert "<h1>피부섬유종</h1>" in response.text


def test_content_covers_every_class_in_model_order() -> None:
    assert list(DISEASE_PAGES) == CODES


def test_a_missing_translation_fails_at_start_up() -> None:
    page = DISEASE_PAGES["df"].model_dump()
    page["texts"]["ko"] = page["texts"]["en"]
    with pytest.raises(ValidationError, match="without Hangul"):
        DiseasePage.model_validate(page)
    del page["texts"]["ko"]
    with pytest.raises(ValidationError, match="no text in ko"):
        DiseasePage.model_validate(page)


# --- the page files ------------------------------------------------------------------------------------------


def _copy_library(tmp_path: Path) -> Path:
    target = tmp_path / "pages"
    target.mkdir(parents=True)
    for path in PAGES_DIR.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_the_page_files_are_read_into_every_section() -> None:
    text = read_page_text(PAGES_DIR / "mel.ko.md", "mel", "ko")
    assert text.what_it_is[0].startswith("흑색종은") and len(text.what_it_is) >= 2
    assert all(not item.startswith("- ") and "  " not in item for item in text.appearance)  # wrapped lines joined
    assert DISEASE_PAGES["mel"].show_abcde and not DISEASE_PAGES["vasc"].show_abcde


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s.replace("## causes", "## reasons"), "reasons"),  # an unknown section
    (lambda s: s.replace("## prevention", "## causes"), "appears twice"),
    (lambda s: s.replace("language: en", "language: ko"), "code: df and language: en"),
    (lambda s: s.replace("## appearance\n\n- ", "## appearance\n\n* "), "start each item with '- '"),
    (lambda s: s.replace("also_known_as:", "also_known_as: [", 1), "front matter"),  # broken YAML
    (lambda s: s.split("## urgency")[0], "urgency"),  # a missing section
])
def test_a_broken_page_file_stops_the_start_up_naming_the_file(tmp_path: Path, edit: Any, message: str) -> None:
    pages = _copy_library(tmp_path)
    page = pages / "df.en.md"
    page.write_text(edit(page.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ContentError, match=r"df\.en\.md") as caught:
        load_library(pages)
    assert message in str(caught.value)


def test_a_missing_page_file_or_unknown_source_stops_the_start_up(tmp_path: Path) -> None:
    pages = _copy_library(tmp_path)
    (pages / "bcc.ko.md").unlink()
    with pytest.raises(ContentError, match=r"bcc\.ko\.md: missing"):
        load_library(pages)
    pages = _copy_library(tmp_path / "again")
    library = pages / "library.yaml"
    library.write_text(library.read_text(encoding="utf-8").replace("- nice_ng12", "- nice_ng99", 1), encoding="utf-8")
    with pytest.raises(ContentError, match="unknown source 'nice_ng99'"):
        load_library(pages)


def test_source_notes_are_in_the_catalogues() -> None:
    """Short texts have one way to be translated: the notes of library.yaml are extracted into the catalogues."""
    from babel.messages.pofile import read_po

    from webapp.core.i18n import LOCALES_DIR

    with (LOCALES_DIR / "ko" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {message.id: message.string for message in read_po(handle) if message.id}
    notes = {source.note for page in DISEASE_PAGES.values() for source in page.sources if source.note}
    assert len(notes) >= 4
    assert all(has_hangul(catalogue.get(note) or "") for note in notes), [n for n in notes if not catalogue.get(n)]


def test_group_of_every_page_matches_the_labels() -> None:
    assert {label.code: label.group.value for label in LABELS} == EXPECTED_GROUP
    assert LesionGroup.PRE_MALIGNANT.value == "pre-malignant"


# --- on the real site ----------------------------------------------------------------------------------------


def test_library_works_inside_the_full_site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Registered in ``create_app()``: the site's sessions, CSRF, security headers and base template."""
    from webapp.app import create_app
    from webapp.core.settings import clear_settings_cache

    monkeypatch.setenv("DRSKIN_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'site.db'}")
    monkeypatch.setenv("DRSKIN_SERVICE_URL", "http://127.0.0.1:9")
    clear_settings_cache()
    asyncio.run(create_schema(os.environ["DATABASE_URL"]))  # sessions live in the database
    try:
        app = create_app()
        with TestClient(app=app) as site:
            response = site.get("/diseases/mel?lang=ko")
            assert response.status_code == 200
            assert "<h1>흑색종</h1>" in response.text
            assert '<html lang="ko">' in response.text
            assert "Content-Security-Policy" in response.headers
            assert 'class="site-header"' in response.text
            assert site.get("/diseases/nope").status_code == 404
    finally:
        clear_settings_cache()
