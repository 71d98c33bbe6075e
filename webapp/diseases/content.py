"""The disease library's text, read from data files and validated at start-up.

``webapp/diseases/pages/`` holds one Markdown file per class and language (``mel.en.md``, ``mel.ko.md``, …) and
``library.yaml`` (the sources, and per class whether the ABCDE box shows and which sources back the page). A file
that is missing, a section that is unknown or absent, an unknown class code, a page without two sources or Korean
text without Hangul stops the site at start-up (``webapp.diseases.schemas``), never a visitor.

A page file: YAML front matter (``code``, ``language``, ``also_known_as``, ``summary``), then one ``## key`` section
per field of ``DiseaseText``. Paragraph sections (``what_it_is``, ``urgency``, ``in_the_dataset``) are paragraphs
separated by blank lines; list sections are ``- `` items (continuation lines indented). Lines are joined with a
space, so long sentences may be wrapped freely. Source notes in ``library.yaml`` are short English texts translated
through the site's catalogues like every other short text (``extract_library`` feeds them to ``pybabel extract``).
Names and groups are not repeated here: they come from ``skin_models.labels``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from webapp.core.labels import CLASS_CODES
from webapp.diseases.schemas import (
    LANGUAGES,
    PARAGRAPH_SECTIONS,
    SINGLE_PARAGRAPH_SECTIONS,
    DiseasePage,
    DiseaseText,
    Source,
)

PAGES_DIR = Path(__file__).resolve().parent / "pages"
LIBRARY_FILE = "library.yaml"


class ContentError(RuntimeError):
    """A library file that cannot be read as a page; the message names the file and the line."""


def _front_matter(text: str, path: Path) -> tuple[dict[str, Any], list[str], int]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError(f"{path}: a page starts with '---' and YAML front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(f"{path}: the front matter is not closed with '---'") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: the front matter is not valid YAML: {error}") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: the front matter must be a mapping")
    return meta, lines[end + 1:], end + 2


def _sections(lines: list[str], first_line: int, path: Path) -> dict[str, list[str]]:
    """``## key`` sections; each a list of paragraphs or list items, wrapped lines joined with one space."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    key = ""
    block: list[str] = []

    def flush() -> None:
        if block and current is not None:
            current.append(" ".join(part.strip() for part in block))
        block.clear()

    for number, raw in enumerate(lines, start=first_line):
        line = raw.rstrip()
        if line.startswith("## "):
            flush()
            key = line[3:].strip()
            if key in sections:
                raise ContentError(f"{path}:{number}: section '{key}' appears twice")
            current = sections[key] = []
        elif not line.strip():
            flush()
        elif current is None:
            raise ContentError(f"{path}:{number}: text before the first '## section' heading")
        elif line.startswith("- "):
            if key in PARAGRAPH_SECTIONS:
                raise ContentError(f"{path}:{number}: '{key}' is written as paragraphs, not a list")
            flush()
            block.append(line[2:])
        else:
            if key not in PARAGRAPH_SECTIONS and not block:
                raise ContentError(f"{path}:{number}: '{key}' is a list: start each item with '- '")
            block.append(line)
    flush()
    return sections


def read_page_text(path: Path, code: str, language: str) -> DiseaseText:
    """One class in one language, checked against the file's own name."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: missing — every class needs a page in {', '.join(LANGUAGES)}") from None
    meta, body, first_line = _front_matter(text, path)
    if meta.pop("code", None) != code or meta.pop("language", None) != language:
        raise ContentError(f"{path}: front matter must say code: {code} and language: {language}")
    sections = _sections(body, first_line, path)
    fields: dict[str, Any] = {**meta}
    for key, items in sections.items():
        if key in SINGLE_PARAGRAPH_SECTIONS:
            if len(items) != 1:
                raise ContentError(f"{path}: '{key}' is one paragraph, found {len(items)}")
            fields[key] = items[0]
        else:
            fields[key] = tuple(items)
    try:
        return DiseaseText.model_validate(fields)
    except ValueError as error:
        raise ContentError(f"{path}: {error}") from error


def load_library(pages_dir: Path = PAGES_DIR) -> dict[str, DiseasePage]:
    """Every class's page, in model order; raises ``ContentError`` or pydantic's error with the file named."""
    library_path = pages_dir / LIBRARY_FILE
    library = yaml.safe_load(library_path.read_text(encoding="utf-8"))
    shared = {name: Source.model_validate(value) for name, value in library["sources"].items()}
    pages_meta: dict[str, Any] = library["pages"]
    if tuple(pages_meta) != CLASS_CODES:  # every class has a page, in model order
        raise ContentError(f"{library_path}: pages {tuple(pages_meta)} do not match the classes {CLASS_CODES}")
    pages: dict[str, DiseasePage] = {}
    for code, meta in pages_meta.items():
        sources = []
        for entry in meta["sources"]:
            if isinstance(entry, str):
                if entry not in shared:
                    raise ContentError(f"{library_path}: {code} cites unknown source '{entry}'; "
                                       f"shared sources: {', '.join(shared)}")
                sources.append(shared[entry])
            else:
                sources.append(Source.model_validate(entry))
        texts = {lang: read_page_text(pages_dir / f"{code}.{lang}.md", code, lang) for lang in LANGUAGES}
        try:
            pages[code] = DiseasePage(code=code, show_abcde=meta["show_abcde"], sources=tuple(sources), texts=texts)
        except ValueError as error:
            raise ContentError(f"{pages_dir}/{code}.*.md: {error}") from error
    return pages


def extract_library(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                    options: Any) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor for ``library.yaml``: every source ``note`` is a message for the catalogues."""
    text = fileobj.read().decode("utf-8")
    library = yaml.safe_load(text)
    lines = text.splitlines()
    notes = [source.get("note") for source in library.get("sources", {}).values()]
    for page in library.get("pages", {}).values():
        notes += [entry.get("note") for entry in page.get("sources", []) if isinstance(entry, dict)]
    for note in notes:
        if note:
            lineno = next((i for i, line in enumerate(lines, start=1) if "note:" in line and note[:20] in line), 0)
            yield lineno, None, note, []


DISEASE_PAGES: dict[str, DiseasePage] = load_library()
