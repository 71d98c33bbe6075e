"""The font the PDF report embeds: one TrueType family with Hangul and Latin, so both languages print alike.

Looked up once per path: ``DRSKIN_REPORT_FONT`` (a .ttf/.otf file), then where Debian's ``fonts-nanum`` puts
NanumGothic, then any font ``fc-list`` says covers Korean. Without one the report cannot be made, and the error says
which package to install.

NanumGothic draws "<" and ">" as angle brackets, so the report's "< 1 %" read as "〈 1 %". Its single guillemets
("‹", "›") are the plain signs: a Nanum font is embedded as a copy whose character map points "<" and ">" at them
(the text in the PDF stays "<" and ">").
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from webapp.core.settings import get_report_settings

log = logging.getLogger(__name__)

KNOWN_PATHS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",  # Debian/Ubuntu fonts-nanum
    "/usr/share/fonts/nanum/NanumGothic.ttf",  # Fedora/Arch naver-nanum-fonts
    "/usr/share/fonts/truetype/nanum-gothic/NanumGothic.ttf",
)
FONT_SUFFIXES = (".ttf", ".otf")  # fpdf2 embeds these; collections (.ttc) need an index: left out


class ReportFontMissing(RuntimeError):
    """No font with Korean glyphs was found: the report cannot be printed."""


@dataclass(frozen=True)
class ReportFont:
    regular: Path
    bold: Path  # the regular file again when the family has no bold face


SIGNS = {ord("<"): "guilsinglleft", ord(">"): "guilsinglright"}


def plain_comparison_signs(font: Path, folder: Path | None = None) -> Path:
    """``font`` itself, or for a Nanum font a copy in which "<" and ">" are drawn with its single guillemets (see
    the module docstring). The copy is written once per font file (named by its size and time) into ``folder``
    (the temporary folder by default) and shared by every process; when it cannot be made, the font as it is."""
    from fontTools.ttLib import TTFont

    try:
        stat = font.stat()
        folder = folder or Path(tempfile.gettempdir()) / "drskin-report-fonts"
        copy = folder / f"{font.stem}-{stat.st_size}-{int(stat.st_mtime)}-signs{font.suffix}"
        if copy.is_file():
            return copy
        with TTFont(font, recalcTimestamp=False) as ttf:
            if not ttf["name"].getBestFamilyName().startswith("Nanum") or \
                    not set(SIGNS.values()) <= set(ttf.getGlyphOrder()):
                return font
            for table in ttf["cmap"].tables:
                if table.isUnicode():
                    table.cmap.update({code: glyph for code, glyph in SIGNS.items() if code in table.cmap})
            folder.mkdir(parents=True, exist_ok=True)
            descriptor, partial = tempfile.mkstemp(dir=folder, suffix=font.suffix)
            os.close(descriptor)
            try:
                ttf.save(partial)
                os.replace(partial, copy)  # whole or not at all, also when two processes race
            finally:
                Path(partial).unlink(missing_ok=True)
        return copy
    except Exception as error:  # a report with angle brackets beats no report
        log.warning("the report keeps %s's own '<' and '>' (%s: %s)", font, type(error).__name__, error)
        return font


def _found(regular: Path) -> ReportFont:
    return ReportFont(plain_comparison_signs(regular), plain_comparison_signs(_bold_sibling(regular)))


def _bold_sibling(regular: Path) -> Path:
    for name in (f"{regular.stem}Bold{regular.suffix}", f"{regular.stem}-Bold{regular.suffix}"):
        candidate = regular.with_name(name)
        if candidate.is_file():
            return candidate
    return regular


def _fc_list_korean() -> list[Path]:
    """Fonts fontconfig says cover Korean, sans-serif-looking names first."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        listing = subprocess.run([fc_list, ":lang=ko", "file"], capture_output=True, text=True, timeout=10,
                                 check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = [Path(line.strip().rstrip(":")) for line in listing.splitlines() if line.strip()]
    files = [path for path in files if path.suffix.lower() in FONT_SUFFIXES and "bold" not in path.stem.lower()]
    return sorted(files, key=lambda path: ("gothic" not in path.stem.lower() and "sans" not in path.stem.lower(),
                                           str(path)))


@lru_cache(maxsize=4)
def _lookup(configured: str | None) -> ReportFont:
    if configured:
        path = Path(configured)
        if not path.is_file() or path.suffix.lower() not in FONT_SUFFIXES:
            raise ReportFontMissing(f"DRSKIN_REPORT_FONT={configured!r} is not a .ttf or .otf file.")
        return _found(path)
    for known in KNOWN_PATHS:
        path = Path(known)
        if path.is_file():
            return _found(path)
    for path in _fc_list_korean():
        if path.is_file():
            return _found(path)
    raise ReportFontMissing(
        "No font with Korean glyphs was found for the PDF report. Install the Debian package fonts-nanum "
        "(apt-get install fonts-nanum) or point DRSKIN_REPORT_FONT at a .ttf file that covers Hangul.")


def report_font() -> ReportFont:
    """The font files for the report (see the module docstring); raises ``ReportFontMissing``."""
    return _lookup(get_report_settings().font_path)
