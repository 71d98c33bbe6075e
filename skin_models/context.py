"""The patient's context (age, sex, body site) and how the classifier weighs it. Torch-free and numpy-free: the
site imports the vocabulary, the service and the trainers the model.

Dermatologists ask these three things first, and HAM10000 records them for every photo (``metadata.csv``: age in
5-year steps, sex, ``localization``): dermatofibromas are found on the legs of young adults, actinic keratoses on
the faces of the old, melanomas on men's backs. The classifier fuses them with the photo as a *naive-Bayes
term* on its logits::

    log P(class | photo, context) = logits / T + weight · Σ_given fields log P(field value | class) + const

where the tables ``log P(value | class)`` are counted (Laplace-smoothed) on the training split and ``weight`` is
chosen on the validation split (it also shrinks what the three fields and the photo tell twice). A field that is
not given adds nothing, so the same model answers from the photo alone (weight 0 is the photo-only classifier),
and no field is ever required. On probabilities the term is a reweighting, ``p · exp(shift)`` renormalised, so it
applies after the network whatever runs the network (PyTorch, ONNX, a batched service).

Why not an embedding concatenated before the head (the ISIC 2019 winners' way): it needs the network retrained
with fields withheld at random, and costs a retraining per change, where this needs seconds and can be measured
against the photo-only model on the same weights (docs/results.md has the measurements).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

# HAM10000's ``localization`` vocabulary ("unknown" is a missing value, not a site).
SITES: tuple[str, ...] = ("abdomen", "acral", "back", "chest", "ear", "face", "foot", "genital", "hand",
                          "lower extremity", "neck", "scalp", "trunk", "upper extremity")
SEXES: tuple[str, ...] = ("female", "male")
# Age bands by their lower edges (years); HAM10000 records age in steps of 5.
AGE_EDGES: tuple[int, ...] = (15, 30, 40, 50, 60, 70, 80)
MAX_AGE = 120
#: Training photos that must have an answer to a symptom before its table is counted.
MIN_SYMPTOM_ANSWERS = 50
# The person's own account of the spot (PAD-UFES-20 asks every patient these; the dermatologist's first
# questions): has it changed, grown, bled, itched, hurt; is it raised. True, False, or not said (None).
SYMPTOMS: tuple[str, ...] = ("changed", "grew", "bled", "itched", "hurt", "raised")
#: A spot that bled or changed is never told "low concern" whatever the photo says (ABCDE's E, and bleeding as
#: in the Glasgow 7-point checklist; docs/training.md, "The red-flag rule").
RED_FLAGS: tuple[str, ...] = ("bled", "changed")
FIELDS: tuple[str, ...] = ("age", "sex", "site", *SYMPTOMS)
_MISSING = {"", "unknown", "unk", "none", "null", "nan"}
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


class ContextError(ValueError):
    """A context field with a value outside its vocabulary; the message lists the valid ones."""


def age_band(age: float) -> int:
    """Index of ``age``'s band: 0 for under 15, then one per edge of ``AGE_EDGES``."""
    return sum(age >= edge for edge in AGE_EDGES)


def age_band_names() -> list[str]:
    """Readable names of the age bands, in index order ("<15", "15-29", …, "80+")."""
    lows = (0, *AGE_EDGES)
    return ["<15" if low == 0 else f"{low}+" if i == len(AGE_EDGES) else f"{low}-{AGE_EDGES[i] - 1}"
            for i, low in enumerate(lows)]


@dataclass(frozen=True)
class PatientContext:
    """What is known about the person and the spot; every field optional."""

    age: float | None = None
    sex: str | None = None
    site: str | None = None
    changed: bool | None = None
    grew: bool | None = None
    bled: bool | None = None
    itched: bool | None = None
    hurt: bool | None = None
    raised: bool | None = None

    def __post_init__(self) -> None:
        if self.age is not None and not (math.isfinite(self.age) and 0 <= self.age <= MAX_AGE):
            raise ContextError(f"age must be a number of years from 0 to {MAX_AGE}, not {self.age!r}")
        if self.sex is not None and self.sex not in SEXES:
            raise ContextError(f"sex must be one of {', '.join(SEXES)} (or left out), not {self.sex!r}")
        if self.site is not None and self.site not in SITES:
            raise ContextError(f"site must be one of {', '.join(SITES)} (HAM10000's localization; or left out), "
                               f"not {self.site!r}")
        for name in SYMPTOMS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ContextError(f"{name} must be true or false (or left out), not {value!r}")

    @classmethod
    def parse(cls, age: object = None, sex: object = None, site: object = None,
              **symptoms: object) -> PatientContext:
        """A context from loose values (form fields, CSV cells): blanks and "unknown" are missing, text is
        trimmed and lower-cased, "lower_extremity" means "lower extremity", ages may be numeric strings, the
        symptoms (``SYMPTOMS``) take true/false, yes/no or 1/0."""
        unknown = sorted(set(symptoms) - set(SYMPTOMS))
        if unknown:
            raise ContextError(f"unknown context fields {unknown}; the symptoms are {', '.join(SYMPTOMS)}")
        return cls(age=_parse_age(age), sex=_parse_word(sex), site=_parse_word(site),
                   **{name: parse_yes_no(name, value) for name, value in symptoms.items()})

    @property
    def given(self) -> tuple[str, ...]:
        """The names of the fields that are set."""
        return tuple(name for name in FIELDS if getattr(self, name) is not None)

    @property
    def red_flags(self) -> tuple[str, ...]:
        """The red-flag symptoms the person reported (``RED_FLAGS`` answered yes)."""
        return tuple(name for name in RED_FLAGS if getattr(self, name) is True)

    def as_dict(self) -> dict[str, float | str | bool | None]:
        return {name: getattr(self, name) for name in FIELDS}


def parse_yes_no(name: str, value: object) -> bool | None:
    """A symptom answer from a form field or CSV cell: true/false, yes/no, 1/0; blank or "unknown" is not said."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _MISSING:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ContextError(f"{name} must be true or false (yes/no; or left out), not {value!r}")


def _parse_word(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).strip().lower().replace("_", " ").split())
    return None if text in _MISSING else text


def _parse_age(value: object) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _MISSING):
        return None
    if isinstance(value, bool):
        raise ContextError(f"age must be a number of years, not {value!r}")
    try:
        age = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ContextError(f"age must be a number of years from 0 to {MAX_AGE}, not {value!r}") from None
    return None if math.isnan(age) else age


class ContextModel(BaseModel):
    """The fitted naive-Bayes term: per field, ``log P(value | class)`` for each class in ``labels`` order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: tuple[str, ...]
    weight: float = Field(ge=0.0, description="how much the context counts; chosen on validation")
    age: list[list[float]] = Field(description="one row per age band (skin_models.context.AGE_EDGES)")
    sex: dict[str, list[float]]
    site: dict[str, list[float]]
    symptoms: dict[str, list[list[float]]] = Field(
        default_factory=dict, description="per symptom (SYMPTOMS), two rows: log P(answer | class) for no, yes; "
        "counted on the training photos whose patients were asked (PAD-UFES-20's)")
    fitted_on: int = Field(ge=0, description="training images the tables were counted on")
    smoothing: float = 1.0

    @model_validator(mode="after")
    def _rows_match_labels(self) -> ContextModel:
        rows = [*self.age, *self.sex.values(), *self.site.values(),
                *(row for table in self.symptoms.values() for row in table)]
        if any(len(row) != len(self.labels) for row in rows):
            raise ValueError(f"every context row needs one value per class ({len(self.labels)})")
        if len(self.age) != len(AGE_EDGES) + 1:
            raise ValueError(f"the age table needs {len(AGE_EDGES) + 1} rows, one per band")
        if any(len(table) != 2 for table in self.symptoms.values()) or set(self.symptoms) - set(SYMPTOMS):
            raise ValueError(f"symptom tables are two rows (no, yes) for symptoms among {', '.join(SYMPTOMS)}")
        return self

    @property
    def fields(self) -> tuple[str, ...]:
        """The request fields this model weighs."""
        return ("age", "sex", "site", *(name for name in SYMPTOMS if name in self.symptoms))

    def log_likelihood(self, context: PatientContext) -> list[float]:
        """Σ over the given fields of ``log P(value | class)``, centred over the classes (unweighted)."""
        total = [0.0] * len(self.labels)
        rows = []
        if context.age is not None:
            rows.append(self.age[age_band(context.age)])
        if context.sex is not None and context.sex in self.sex:
            rows.append(self.sex[context.sex])
        if context.site is not None and context.site in self.site:
            rows.append(self.site[context.site])
        for name, table in self.symptoms.items():
            answer = getattr(context, name)
            if answer is not None:
                rows.append(table[int(answer)])
        for row in rows:
            total = [t + r for t, r in zip(total, row, strict=True)]
        mean = sum(total) / len(total)
        return [t - mean for t in total]

    def shift(self, context: PatientContext | None) -> list[float]:
        """What the context adds to the temperature-scaled logits (zeros when nothing is given)."""
        if context is None or not context.given:
            return [0.0] * len(self.labels)
        return [self.weight * value for value in self.log_likelihood(context)]

    def apply(self, probabilities: Sequence[float], context: PatientContext | None) -> list[float]:
        """Photo-only class probabilities → probabilities given the context as well (rows still sum to 1)."""
        shift = self.shift(context)
        if not any(shift):
            return [float(p) for p in probabilities]
        top = max(shift)
        weighted = [max(float(p), 0.0) * math.exp(s - top) for p, s in zip(probabilities, shift, strict=True)]
        total = sum(weighted)
        if total <= 0.0:
            return [float(p) for p in probabilities]
        return [w / total for w in weighted]


def fit_context_model(contexts: Sequence[PatientContext], targets: Sequence[int], labels: Sequence[str], *,
                      weight: float = 1.0, smoothing: float = 1.0) -> ContextModel | None:
    """Count ``log P(value | class)`` for each field on training records (``targets`` index ``labels``), with
    ``smoothing`` added to every count. None when no record has any context (then there is nothing to learn)."""
    if len(contexts) != len(targets):
        raise ValueError(f"{len(contexts)} contexts for {len(targets)} targets")
    if not any(c.given for c in contexts):
        return None
    n_classes = len(labels)

    def table(n_values: int, value_of: list[int | None]) -> list[list[float]]:
        counts = [[smoothing] * n_classes for _ in range(n_values)]
        for value, target in zip(value_of, targets, strict=True):
            if value is not None:
                counts[value][int(target)] += 1.0
        column = [sum(counts[v][k] for v in range(n_values)) for k in range(n_classes)]
        return [[math.log(counts[v][k] / column[k]) for k in range(n_classes)] for v in range(n_values)]

    ages = table(len(AGE_EDGES) + 1, [None if c.age is None else age_band(c.age) for c in contexts])
    sexes = table(len(SEXES), [None if c.sex is None else SEXES.index(c.sex) for c in contexts])
    sites = table(len(SITES), [None if c.site is None else SITES.index(c.site) for c in contexts])
    # A symptom is weighed only when enough training photos answered it: PAD-UFES-20 asks every patient, HAM10000
    # none, so these tables are counted on the phone photos alone (absent classes get the smoothing only).
    symptoms = {name: table(2, [None if getattr(c, name) is None else int(getattr(c, name)) for c in contexts])
                for name in SYMPTOMS if sum(getattr(c, name) is not None for c in contexts) >= MIN_SYMPTOM_ANSWERS}
    return ContextModel(labels=tuple(labels), weight=weight, age=ages, sex=dict(zip(SEXES, sexes, strict=True)),
                        site=dict(zip(SITES, sites, strict=True)), symptoms=symptoms, fitted_on=len(contexts),
                        smoothing=smoothing)
