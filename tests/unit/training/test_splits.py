"""Lesion-grouped, class-stratified splits."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from skin_models.labels import CLASS_CODES
from training.data import Record, load_records
from training.splits import SPLITS, load_splits, make_splits, save_splits, split_counts, split_fingerprint

# Images per class, shaped like HAM10000 (nv dominates, df and vasc are rare).
CLASS_SIZES = {"mel": 111, "nv": 670, "bcc": 51, "akiec": 33, "bkl": 110, "df": 12, "vasc": 14}


def fake_records(with_lesions: bool = True, seed: int = 0) -> list[Record]:
    """Records without files; 1 to 4 images per lesion."""
    rng = random.Random(seed)
    records: list[Record] = []
    lesion = 0
    for code, n in CLASS_SIZES.items():
        made = 0
        while made < n:
            lesion += 1
            for _ in range(min(rng.choice([1, 1, 1, 2, 2, 3, 4]), n - made)):
                image_id = f"IMG_{len(records):05d}"
                lesion_id = f"LES_{lesion:05d}" if with_lesions else None
                records.append(Record(image_id, code, lesion_id, Path(f"/x/{image_id}.jpg"), None))
                made += 1
    return records


def test_no_lesion_is_in_two_splits_and_every_image_has_one() -> None:
    records = fake_records()
    splits = make_splits(records)
    assert set(splits) == {r.image_id for r in records}
    assert set(splits.values()) == set(SPLITS)
    per_lesion: dict[str, set[str]] = defaultdict(set)
    for record in records:
        per_lesion[record.lesion_id or ""].add(splits[record.image_id])
    assert all(len(found) == 1 for found in per_lesion.values())


def test_per_class_ratios_are_close_to_target() -> None:
    records = fake_records()
    counts = split_counts(records, make_splits(records, ratios=(0.7, 0.15, 0.15)))
    for code, n in CLASS_SIZES.items():
        assert counts["train"][code] + counts["val"][code] + counts["test"][code] == n
        for split, ratio in (("val", 0.15), ("test", 0.15)):
            # Whole lesions (up to 4 images) make exact ratios impossible; within one lesion's worth.
            assert abs(counts[split][code] - ratio * n) <= 4, (code, split, counts[split][code])


def test_every_class_reaches_val_and_test_even_when_tiny() -> None:
    records = [Record(f"I{i}", "df", f"L{i}", Path("x"), None) for i in range(3)]
    records += [Record(f"N{i}", "nv", f"M{i}", Path("x"), None) for i in range(50)]
    counts = split_counts(records, make_splits(records))
    assert counts["train"]["df"] == counts["val"]["df"] == counts["test"]["df"] == 1


def test_deterministic_and_independent_of_input_order() -> None:
    records = fake_records()
    first = make_splits(records, seed=3)
    assert make_splits(list(reversed(records)), seed=3) == first
    assert make_splits(records, seed=4) != first


def test_falls_back_to_image_level_split_with_a_warning() -> None:
    records = fake_records(with_lesions=False)
    with pytest.warns(UserWarning, match="no lesion ids"):
        splits = make_splits(records)
    counts = split_counts(records, splits)
    assert all(counts[split][code] > 0 for split in SPLITS for code in CLASS_CODES)
    assert abs(counts["test"]["nv"] - 67) <= 1


def test_bad_ratios_are_refused() -> None:
    with pytest.raises(ValueError, match="summing to 1"):
        make_splits(fake_records(), ratios=(0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="three"):
        make_splits(fake_records(), ratios=(0.9, 0.1))


def test_save_load_round_trip_and_fingerprint(tmp_path: Path) -> None:
    records = fake_records()
    splits = make_splits(records)
    path = tmp_path / "splits.csv"
    save_splits(path, splits, records)
    assert path.read_text().splitlines()[0] == "image,lesion_id,label,split"
    assert load_splits(path) == splits
    fingerprint = split_fingerprint(path)
    save_splits(tmp_path / "again.csv", dict(reversed(splits.items())), records)
    assert split_fingerprint(tmp_path / "again.csv") == fingerprint  # sorted rows: same bytes


def test_save_refuses_splits_that_do_not_match_the_records(tmp_path: Path) -> None:
    records = fake_records()
    splits = make_splits(records)
    splits.pop(records[0].image_id)
    with pytest.raises(ValueError, match="1 records have no split"):
        save_splits(tmp_path / "s.csv", splits, records)


def test_load_rejects_unknown_split_names(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("image,lesion_id,label,split\nA,L1,nv,holdout\n")
    with pytest.raises(ValueError, match="line 2: unknown split 'holdout'"):
        load_splits(path)


def test_synthetic_set_splits_by_lesion(synth_dir: Path) -> None:
    records = load_records(synth_dir)
    splits = make_splits(records)
    per_lesion: dict[str, set[str]] = defaultdict(set)
    for record in records:
        per_lesion[record.lesion_id or ""].add(splits[record.image_id])
    assert all(len(found) == 1 for found in per_lesion.values())
