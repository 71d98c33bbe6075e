"""The shape of a disease page, validated when the library's files are read (i.e. at start-up).

Every page must exist in both languages with the same sections, carry at least two checkable sources, and its
Korean text must actually be Korean: a missing translation fails the start-up, not a visitor.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from webapp.core.labels import CLASS_CODES

Language = Literal["en", "ko"]
LANGUAGES: tuple[Language, ...] = ("en", "ko")

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """A reference a reader can check. ``url`` is the exact page when we are sure of it, else the site's root."""

    title: str = Field(description="Title of the page, leaflet, article or book")
    publisher: str = Field(description="Organisation, journal or authors")
    url: str = Field(description="http(s) address")
    language: Language = Field(default="en", description="Language of the source itself")
    note: str | None = Field(default=None, description="E.g. where to look when the URL is a site's root; English, "
                                                       "translated through the site's catalogues")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"source URL must be http(s): {value!r}")
        return value


# Sections written as paragraphs in a page file (the others are lists); of those, the ones that are one paragraph.
PARAGRAPH_SECTIONS = frozenset({"what_it_is", "urgency", "in_the_dataset"})
SINGLE_PARAGRAPH_SECTIONS = frozenset({"urgency", "in_the_dataset"})


class DiseaseText(_Frozen):
    """Everything on a page that is written in one language."""

    also_known_as: tuple[str, ...] = Field(description="The conditions the class covers, or other names")
    summary: str = Field(description="One or two sentences for the index page")
    what_it_is: tuple[str, ...] = Field(min_length=1, description="Paragraphs")
    appearance: tuple[str, ...] = Field(min_length=1, description="How it looks to the naked eye (list items)")
    dermoscopy: tuple[str, ...] = Field(min_length=1, description="What a dermatoscope shows (list items)")
    causes: tuple[str, ...] = Field(min_length=1, description="Causes and risk factors (list items)")
    prevention: tuple[str, ...] = Field(min_length=1, description="List items")
    see_a_doctor: tuple[str, ...] = Field(min_length=1, description="Signs that should take you to a doctor")
    urgency: str = Field(description="How soon, in one paragraph")
    in_the_dataset: str = Field(description="What this class means in HAM10000, i.e. what the model was taught")

    def all_text(self) -> list[str]:
        return [*self.also_known_as, self.summary, *self.what_it_is, *self.appearance, *self.dermoscopy,
                *self.causes, *self.prevention, *self.see_a_doctor, self.urgency, self.in_the_dataset]


class DiseasePage(_Frozen):
    """One diagnostic class. Names and group are not repeated here: they come from ``skin_models.labels``."""

    code: str
    texts: dict[Language, DiseaseText] = Field(description="The page's text in every language of the library")
    show_abcde: bool = Field(description="Show the ABCDE rule and the ugly-duckling sign (pigmented lesions)")
    sources: tuple[Source, ...] = Field(min_length=2)

    @field_validator("code")
    @classmethod
    def _known_code(cls, value: str) -> str:
        if value not in CLASS_CODES:
            raise ValueError(f"unknown class code {value!r}; valid codes: {', '.join(CLASS_CODES)}")
        return value

    @model_validator(mode="after")
    def _every_language_and_korean_is_korean(self) -> DiseasePage:
        missing = [lang for lang in LANGUAGES if lang not in self.texts]
        if missing:
            raise ValueError(f"{self.code}: no text in {', '.join(missing)}")
        untranslated = [text for text in self.texts["ko"].all_text() if not has_hangul(text)]
        if untranslated:
            raise ValueError(f"{self.code}: Korean text without Hangul (untranslated?): {untranslated[:3]}")
        return self

    def text(self, lang: Language) -> DiseaseText:
        return self.texts[lang]
