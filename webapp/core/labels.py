"""The seven classes for display. ``skin_models.labels`` is pure Python (no torch), so the site shares it."""

from __future__ import annotations

from skin_models.labels import CLASS_CODES, CONCERNING_CODES, LABELS, get_label
from webapp.core.i18n import N_, _, current_language, gettext

__all__ = ["CLASS_CODES", "CLASS_NAMES", "CONCERNING_CODES", "LABELS", "TRIAGE_LABELS", "TRIAGE_RANK", "get_label",
           "label_name", "triage_label"]

# The classes' names for people, translated through the catalogues (skin_models keeps the English names the API
# sends as ``label_name``); checked against skin_models.labels at import so a renamed class cannot drift.
CLASS_NAMES = {
    "mel": N_("Melanoma"),
    "nv": N_("Melanocytic nevus"),
    "bcc": N_("Basal cell carcinoma"),
    "akiec": N_("Actinic keratosis / intraepithelial carcinoma"),
    "bkl": N_("Benign keratosis-like lesion"),
    "df": N_("Dermatofibroma"),
    "vasc": N_("Vascular lesion"),
}
if {label.code: label.name_en for label in LABELS} != CLASS_NAMES:
    raise RuntimeError("webapp.core.labels.CLASS_NAMES differ from skin_models.labels: update both")

TRIAGE_RANK = {"low": 0, "medium": 1, "high": 2}
TRIAGE_LABELS = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}


def label_name(code: str, lang: str | None = None) -> str:
    """The class's display name in ``lang`` (default: the current request's language); unknown codes as they are."""
    try:
        canonical = get_label(code).code
    except KeyError:
        return code
    return gettext(lang or current_language(), CLASS_NAMES[canonical])


def triage_label(level: str) -> str:
    """``low`` / ``medium`` / ``high`` in the current language."""
    text = TRIAGE_LABELS.get(str(level))
    return _(text) if text else str(level)
