"""The report's pure parts: dates in a zone, file names, the font lookup, and a report built from unsaved rows
(older answers without an outline, honest percentages at the ends, an account's time zone)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from tests.webapp.conftest import fake_result
from tests.webapp.images import lesion_photo
from webapp.core.i18n import set_current_language
from webapp.reports import fonts
from webapp.reports.views import attachment_header, diagnosis_report, format_when

GREEN_OUTLINE = b"0.2392 1 0.6196 RG"
MOMENT = datetime(2026, 11, 24, 21, 54, tzinfo=UTC)


@pytest.fixture
def english() -> Iterator[None]:
    set_current_language("en")
    yield
    set_current_language("en")


def test_dates_are_written_in_the_zone_and_name_it(english):
    assert format_when(MOMENT, "Asia/Seoul", "en") == "25 Nov 2026, 06:54 KST"
    assert format_when(MOMENT, "Asia/Seoul", "ko") == "2026. 11. 25. 06:54 KST"
    assert format_when(MOMENT, None, "en") == "24 Nov 2026, 21:54 UTC"
    assert format_when(MOMENT, "Mars/Olympus_Mons", "en") == "24 Nov 2026, 21:54 UTC"
    assert format_when(MOMENT.replace(tzinfo=None), "UTC", "en") == "24 Nov 2026, 21:54 UTC"


def test_file_names_are_ascii_with_the_real_name_in_rfc5987():
    korean = attachment_header("lesion", "등 왼쪽 점", "2026-11-29")
    assert korean.startswith('attachment; filename="drskin-lesion-2026-11-29.pdf"; filename*=UTF-8\'\'')
    assert "%EB%93%B1" in korean and korean.isascii()
    assert attachment_header("lesion", "arranged", "2026-11-29") == \
        'attachment; filename="drskin-lesion-arranged-2026-11-29.pdf"'
    tricky = attachment_header("lesion", 'Back "spot"/\r\n2', "2026-11-29")
    assert 'filename="drskin-lesion-back-spot-2-2026-11-29.pdf"' in tricky
    assert "\r" not in tricky and "\n" not in tricky and tricky.count('"') == 2


def test_without_a_korean_font_the_error_names_the_package(monkeypatch):
    fonts._lookup.cache_clear()
    try:
        with pytest.raises(fonts.ReportFontMissing, match="DRSKIN_REPORT_FONT"):
            fonts._lookup("/nowhere/font.ttf")
        monkeypatch.setattr(fonts, "KNOWN_PATHS", ())
        monkeypatch.setattr(fonts, "_fc_list_korean", lambda: [])
        with pytest.raises(fonts.ReportFontMissing, match="fonts-nanum"):
            fonts._lookup(None)
    finally:
        fonts._lookup.cache_clear()


def test_the_installed_font_covers_hangul():
    from fontTools.ttLib import TTFont

    found = fonts.report_font()
    assert ord("가") in TTFont(found.regular).getBestCmap()


def test_a_nanum_font_is_embedded_with_plain_comparison_signs(tmp_path):
    """NanumGothic's own "<" is an angle bracket ("〈 1 %"); the copy points "<" and ">" at its single guillemets,
    is made once, and a font that is not Nanum, or a folder that cannot be written, leaves the font as it is."""
    from fontTools.ttLib import TTFont

    original = fonts.KNOWN_PATHS[0]
    if not Path(original).is_file():
        pytest.skip("fonts-nanum is not installed (make test installs it)")
    copy = fonts.plain_comparison_signs(Path(original), tmp_path)
    assert copy != Path(original) and copy.parent == tmp_path

    def glyph_ids(path: Path | str, text: str) -> list[int]:  # (names can be re-derived from the cmap: ids)
        font = TTFont(path)
        cmap = font.getBestCmap()
        return [font.getGlyphID(cmap[ord(char)]) for char in text]

    assert glyph_ids(original, "<>") != glyph_ids(original, "‹›")
    assert glyph_ids(copy, "<>") == glyph_ids(original, "‹›")
    assert glyph_ids(copy, "가1%") == glyph_ids(original, "가1%")
    written = copy.stat().st_mtime_ns
    assert fonts.plain_comparison_signs(Path(original), tmp_path) == copy and copy.stat().st_mtime_ns == written
    nested = tmp_path / "new" / "folder"
    assert fonts.plain_comparison_signs(Path(original), nested) == nested / copy.name
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    assert fonts.plain_comparison_signs(Path(original), blocked) == Path(original)
    assert fonts.report_font().regular.name.endswith("-signs.ttf")
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.is_file():
        assert fonts.plain_comparison_signs(dejavu, tmp_path) == dejavu


def _rows(result: dict, *, overlay: bool) -> tuple:
    from webapp.db.models import Diagnosis, Photo

    user_id = uuid.uuid4()
    photo = Photo(id=uuid.uuid4(), user_id=user_id, content_type="image/jpeg", width=320, height=240,
                  data=lesion_photo(320, 240, with_gps=False))
    outlined = (Photo(id=uuid.uuid4(), user_id=user_id, content_type="image/png", width=320, height=240,
                      data=lesion_photo(320, 240, fmt="PNG")) if overlay else None)
    diagnosis = Diagnosis(id=uuid.uuid4(), user_id=user_id, photo_id=photo.id,
                          overlay_id=outlined.id if outlined else None, label=result["classification"]["label"],
                          triage_level=result["triage"]["level"],
                          concerning_probability=result["triage"]["concerning_probability"],
                          area_fraction=0.2, model_versions=result["models"], result_document=result,
                          created_at=MOMENT)
    return diagnosis, photo, outlined


@pytest.mark.parametrize("overlay", [True, False], ids=["old-answer-with-overlay", "photo-alone"])
def test_an_answer_without_an_outline_prints_the_photo_with_honest_percentages_in_the_accounts_zone(english,
                                                                                                     overlay):
    from webapp.reports.pdf import render

    result = fake_result(label="nv", concerning=0.003)
    result["classification"]["probabilities"] = {"mel": 0.001, "bcc": 0.001, "akiec": 0.001, "nv": 0.996,
                                                 "bkl": 0.0005, "df": 0.0005, "vasc": 0.0}
    result["classification"]["patient_context"] = {"age": 62, "sex": "male", "site": "back", "applied": True}
    diagnosis, photo, outlined = _rows(result, overlay=overlay)
    user = SimpleNamespace(time_zone="Asia/Seoul", display_name="Kim Minji")
    report = diagnosis_report(user, diagnosis, photo, outlined, None, MOMENT)
    reader = PdfReader(io.BytesIO(render(report)))
    text = reader.pages[0].extract_text()
    assert "Melanoma <\xa01\xa0%" in text  # the no-break spaces survive into the PDF's text
    text = text.replace("\xa0", " ")
    # made at that moment; the photo's date heads the report, and is not repeated above the photo
    assert "Photo of 25 Nov 2026, 06:54 KST" in text and text.count("25 Nov 2026, 06:54 KST") == 2
    assert "Kim Minji" in text
    assert "Melanocytic nevus > 99 %" in text and "Melanoma < 1 %" in text and "100 %" not in text
    assert "Weighed with the photo: age 62, male, back." in text
    assert len(reader.pages[0].images) == 1
    assert GREEN_OUTLINE not in reader.pages[0].get_contents().get_data()
    caption = "The spot as the model outlined it" if overlay else "Your photo"
    assert caption in text
