"""The seven classes for display. ``skin_models.labels`` is pure Python (no torch), so the site shares it."""

from __future__ import annotations

from skin_models.labels import CLASS_CODES, CONCERNING_CODES, LABELS, get_label

__all__ = ["CLASS_CODES", "CONCERNING_CODES", "LABELS", "TRIAGE_RANK", "get_label", "label_name"]

TRIAGE_RANK = {"low": 0, "medium": 1, "high": 2}


def label_name(code: str) -> str:
    try:
        return get_label(code).name_en
    except KeyError:
        return code
