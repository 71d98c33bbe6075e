"""The seven classes for display. ``skin_models.labels`` is pure Python (no torch), so the site shares it."""

from __future__ import annotations

from skin_models.labels import CLASS_CODES, CONCERNING_CODES, LABELS, get_label
from webapp.core.i18n import N_, _, current_language

__all__ = ["CLASS_CODES", "CONCERNING_CODES", "LABELS", "TRIAGE_LABELS", "TRIAGE_RANK", "get_label", "label_name",
           "triage_label"]

TRIAGE_RANK = {"low": 0, "medium": 1, "high": 2}
TRIAGE_LABELS = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}


def label_name(code: str, lang: str | None = None) -> str:
    """The class's display name in ``lang`` (default: the current request's language); unknown codes as they are."""
    try:
        return get_label(code).name(lang or current_language())
    except KeyError:
        return code


def triage_label(level: str) -> str:
    """``low`` / ``medium`` / ``high`` in the current language."""
    text = TRIAGE_LABELS.get(str(level))
    return _(text) if text else str(level)
