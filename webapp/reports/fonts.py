"""The font the PDF report embeds: one TrueType family with Hangul and Latin, so both languages print alike.

Looked up once per path: ``DRSKIN_REPORT_FONT`` (a .ttf/.otf file), then where Debian's ``fonts-nanum`` puts
NanumGothic, then any font ``fc-list`` says covers Korean. Without one the report cannot be made, and the error says
which package to install.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from webapp.core.settings import get_report_settings

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
        return ReportFont(path, _bold_sibling(path))
    for known in KNOWN_PATHS:
        path = Path(known)
        if path.is_file():
            return ReportFont(path, _bold_sibling(path))
    for path in _fc_list_korean():
        if path.is_file():
            return ReportFont(path, _bold_sibling(path))
    raise ReportFontMissing(
        "No font with Korean glyphs was found for the PDF report. Install the Debian package fonts-nanum "
        "(apt-get install fonts-nanum) or point DRSKIN_REPORT_FONT at a .ttf file that covers Hangul.")


def report_font() -> ReportFont:
    """The font files for the report (see the module docstring); raises ``ReportFontMissing``."""
    return _lookup(get_report_settings().font_path)
