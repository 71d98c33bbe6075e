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
    """One diagnostic class: its short code, ISIC CSV column, names and group."""

    code: str
    isic_column: str
    name_en: str
    name_ko: str
    group: LesionGroup

    @property
    def is_concerning(self) -> bool:
        """True for malignant and pre-malignant classes (mel, bcc, akiec)."""
        return self.group is not LesionGroup.BENIGN

    def name(self, lang: str = "en") -> str:
        """The display name in ``lang`` ("en" or "ko")."""
        return self.name_ko if lang.startswith("ko") else self.name_en


LABELS: tuple[Label, ...] = (
    Label("mel", "MEL", "Melanoma", "흑색종", LesionGroup.MALIGNANT),
    Label("nv", "NV", "Melanocytic nevus", "멜라닌세포 모반(점)", LesionGroup.BENIGN),
    Label("bcc", "BCC", "Basal cell carcinoma", "기저세포암", LesionGroup.MALIGNANT),
    Label("akiec", "AKIEC", "Actinic keratosis / intraepithelial carcinoma", "광선각화증 / 상피내암",
          LesionGroup.PRE_MALIGNANT),
    Label("bkl", "BKL", "Benign keratosis-like lesion", "양성 각화증양 병변", LesionGroup.BENIGN),
    Label("df", "DF", "Dermatofibroma", "피부섬유종", LesionGroup.BENIGN),
    Label("vasc", "VASC", "Vascular lesion", "혈관 병변", LesionGroup.BENIGN),
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
