"""The real HAM10000 development set in ../shared/data/ham10000-dev, read through training.data.

Skipped when the folder is not there (e.g. on a fresh clone); ``DRSKIN_HAM10000_DIR`` points elsewhere.
"""

from __future__ import annotations

import csv
import os
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from skin_models.labels import CLASS_CODES
from training.data import Record, load_image, load_mask, load_records
from training.splits import SPLITS, make_splits, split_counts

DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ham10000-dev"
DATA_DIR = Path(os.environ.get("DRSKIN_HAM10000_DIR", DEFAULT_DIR))

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (DATA_DIR / "GroundTruth.csv").is_file(),
        reason=f"no HAM10000 data at {DATA_DIR} (set DRSKIN_HAM10000_DIR to a folder in the HAM10000 layout)",
    ),
]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return load_records(DATA_DIR)


def test_class_counts_match_metadata_dx(records: list[Record]) -> None:
    # metadata.csv's dx column is an independent source for the labels read from GroundTruth.csv's one-hot columns.
    with (DATA_DIR / "metadata.csv").open(newline="") as handle:
        dx = {row["image"]: row["dx"] for row in csv.DictReader(handle)}
    assert Counter(r.label for r in records) == Counter(dx.values())
    assert all(dx[r.image_id] == r.label for r in records)
    assert all(r.lesion_id for r in records)


def test_splits_are_lesion_disjoint_and_contain_every_class(records: list[Record]) -> None:
    splits = make_splits(records, seed=42)
    per_lesion: dict[str, set[str]] = defaultdict(set)
    for record in records:
        per_lesion[record.lesion_id or record.image_id].add(splits[record.image_id])
    assert [lesion for lesion, found in per_lesion.items() if len(found) > 1] == []
    counts = split_counts(records, splits)
    assert all(counts[split][code] > 0 for split in SPLITS for code in CLASS_CODES)


def test_masks_line_up_with_images(records: list[Record]) -> None:
    # Dermoscopic lesions are darker than the skin around them in the vast majority of images; a mask that is
    # inverted (palette!), transposed or shifted would break that. README: about 96 % on a sample.
    sample = random.Random(0).sample([r for r in records if r.mask_path is not None], 200)
    darker = 0
    for record in sample:
        grey = np.asarray(load_image(record).convert("L"), dtype=np.float32)
        mask = load_mask(record, (grey.shape[1], grey.shape[0]))
        assert mask.shape == grey.shape and mask.any(), record.image_id
        darker += bool(np.median(grey[mask]) < np.median(grey[~mask]))
    assert darker / len(sample) >= 0.85
