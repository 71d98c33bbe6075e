"""The real PAD-UFES-20 phone photos in ../shared/data/pad-ufes-20-subset: read as phone photos with the patients'
account, split by patient, and judged lesion-like by the shipped not-a-lesion check while non-skin photos are not.

Skipped when the folder is not there (e.g. on a fresh clone); ``DRSKIN_PAD_UFES_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skin_models.verdict import LesionLikeness, decide
from training.data import load_image, load_records
from training.splits import make_kind_splits

DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pad-ufes-20-subset"
DATA_DIR = Path(os.environ.get("DRSKIN_PAD_UFES_DIR", DEFAULT_DIR))

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not (DATA_DIR / "GroundTruth.csv").is_file(),
                       reason=f"no PAD-UFES-20 phone photos at {DATA_DIR} (set DRSKIN_PAD_UFES_DIR)"),
]


def test_the_phone_photos_read_with_kind_patients_and_their_account() -> None:
    records = load_records(DATA_DIR)
    assert len(records) >= 500 and {r.photo_kind for r in records} == {"phone"}
    assert Counter(r.label for r in records).keys() <= {"mel", "nv", "bcc", "akiec", "bkl"}
    assert sum(r.context.bled is not None for r in records) > 0.9 * len(records)
    splits = make_kind_splits(records)
    patients: dict[str, set[str]] = {}
    for r in records:
        patients.setdefault(str(r.patient_id), set()).add(splits[r.image_id])
    assert all(len(found) == 1 for found in patients.values())
    shares = Counter(splits.values())
    assert 0.15 < shares["test"] / len(records) < 0.25  # phone photos: 60/20/20 by patient


def test_the_shipped_check_takes_real_phone_photos_of_lesions_and_refuses_non_skin() -> None:
    from training import ood

    likeness = LesionLikeness.load()
    assert likeness is not None and likeness.others, "lesion_likeness.json has no phone-photo Gaussian"
    records = load_records(DATA_DIR)[::10]
    refused = [r.image_id for r in records
               if decide([], likeness.distance(np.asarray(load_image(r))), likeness).verdict == "not_a_lesion"]
    assert len(refused) <= 0.05 * len(records), refused
    generated = list(ood.generate(120))
    refused_generated = sum(decide([], likeness.distance(image), likeness).verdict == "not_a_lesion"
                            for _, image in generated)
    assert refused_generated >= 0.9 * len(generated)
