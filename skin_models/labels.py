"""The seven HAM10000 diagnostic classes, in the ISIC 2018 Task 3 column order."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LesionGroup(StrEnum):
    """How worrying a class is, for triage."""

    MALIGNANT = "malignant"
    PRE_MALIGNANT = "pre-malignant"
    BENIGN = "benign"


@dataclass(frozen=True, slots=True)
class Label:
    """One diagnostic class: its short code, ISIC CSV column, English name and group.

    The English name is what the API sends (``label_name``) for API users; people read the names in the site's
    catalogues (``webapp.core.labels``), in their language.
    """

    code: str
    isic_column: str
    name_en: str
    group: LesionGroup

    @property
    def is_concerning(self) -> bool:
        """True for malignant and pre-malignant classes (mel, bcc, akiec)."""
        return self.group is not LesionGroup.BENIGN


LABELS: tuple[Label, ...] = (
    Label("mel", "MEL", "Melanoma", LesionGroup.MALIGNANT),
    Label("nv", "NV", "Melanocytic nevus", LesionGroup.BENIGN),
    Label("bcc", "BCC", "Basal cell carcinoma", LesionGroup.MALIGNANT),
    Label("akiec", "AKIEC", "Actinic keratosis / intraepithelial carcinoma",
          LesionGroup.PRE_MALIGNANT),
    Label("bkl", "BKL", "Benign keratosis-like lesion", LesionGroup.BENIGN),
    Label("df", "DF", "Dermatofibroma", LesionGroup.BENIGN),
    Label("vasc", "VASC", "Vascular lesion", LesionGroup.BENIGN),
)

CLASS_CODES: tuple[str, ...] = tuple(label.code for label in LABELS)
ISIC_COLUMNS: tuple[str, ...] = tuple(label.isic_column for label in LABELS)
NUM_CLASSES = len(LABELS)
CONCERNING_CODES: tuple[str, ...] = tuple(label.code for label in LABELS if label.is_concerning)

class UnknownLabelError(ValueError, KeyError):
    """A class code or column that is not one of the seven."""


_BY_CODE = {label.code: label for label in LABELS}
_BY_COLUMN = {label.isic_column: label for label in LABELS}


def get_label(code_or_column: str) -> Label:
    """Look a class up by code ("mel") or ISIC column ("MEL"); unknown names list the valid ones."""
    key = code_or_column.strip()
    label = _BY_CODE.get(key.lower()) or _BY_COLUMN.get(key.upper())
    if label is None:
        raise UnknownLabelError(f"unknown lesion class {code_or_column!r}; valid codes: {', '.join(CLASS_CODES)}")
    return label


def class_index(code: str) -> int:
    """The column index of a class code in model outputs."""
    return CLASS_CODES.index(get_label(code).code)


def concerning_indices(codes: tuple[str, ...] = CLASS_CODES) -> list[int]:
    """Indices of mel, bcc and akiec within ``codes``: the classes whose summed probability drives triage."""
    return [i for i, code in enumerate(codes) if get_label(code).is_concerning]
