"""Lesion-grouped, class-stratified train/val/test splits.

HAM10000 has several photos of many lesions; if photos of one lesion land in both train and test, test scores
measure memory rather than diagnosis. So whole lesions are assigned, and each class is split on its own so the
rare classes (df, vasc) reach val and test.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from skin_models.labels import CLASS_CODES
from training.data import Record

SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_COLUMNS = ("image", "lesion_id", "label", "split")
# A smartphone set is small (PAD-UFES-20 here: 507 photos of 404 patients) and its validation split chooses the
# per-kind temperature and triage threshold: it gets larger held-out shares than HAM10000's 10 %.
PHONE_SPLIT_RATIOS: tuple[float, float, float] = (0.6, 0.2, 0.2)
DUPLICATES_FILE = Path(__file__).with_name("ham10000_duplicates.csv")


def known_duplicates(path: Path = DUPLICATES_FILE) -> list[tuple[str, str]]:
    """Pairs of image ids that show one lesion under two lesion ids (``ham10000_duplicates.csv``)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [(row["from_img"], row["to_img"]) for row in csv.DictReader(lines)]


def make_splits(records: Sequence[Record], ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 42) -> dict[str, str]:
    """image id → "train" | "val" | "test", grouped by lesion id and stratified by class.

    Per class, the class's lesions are shuffled with ``seed``; whole lesions fill test, then val, as long as each
    one brings the split closer to its target image count; the rest is train. A class with 3 or more lesions
    always gets at least one lesion in val and in test (when their ratio is above zero). Without lesion ids
    every image is its own group (an image-level split) and a warning says so.
    """
    train_ratio, val_ratio, test_ratio = _check_ratios(ratios)
    groups = _group_by_lesion(records)

    by_class: dict[str, list[tuple[str, list[Record]]]] = defaultdict(list)
    for key in sorted(groups):  # sorted first so the result does not depend on the input order
        by_class[_lesion_label(groups[key])].append((key, groups[key]))

    assignment: dict[str, str] = {}
    for code in sorted(by_class, key=_class_order):
        lesions = by_class[code]
        # A string seed is hashed with sha512 by `random`, so it is stable across processes and Python builds.
        random.Random(f"{seed}:{code}").shuffle(lesions)
        for split, members in _split_class(lesions, val_ratio, test_ratio, train_ratio).items():
            for _key, group in members:
                for record in group:
                    assignment[record.image_id] = split
    _join_duplicates(assignment, groups)
    return {record.image_id: assignment[record.image_id] for record in records}


def _join_duplicates(assignment: dict[str, str], groups: Mapping[str, list[Record]]) -> None:
    """Move the lesion of a known duplicate's second photo into the split of the first (``known_duplicates``), so
    no lesion shows in two splits under two ids. Done after the split so every other lesion keeps its place."""
    group_of = {record.image_id: group for group in groups.values() for record in group}
    for first, second in known_duplicates():
        if first in assignment and second in assignment and assignment[first] != assignment[second]:
            for record in group_of[second]:
                assignment[record.image_id] = assignment[first]


def make_kind_splits(records: Sequence[Record], ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 42,
                     phone_ratios: Sequence[float] = PHONE_SPLIT_RATIOS) -> dict[str, str]:
    """One split over photos of several kinds: each kind split on its own (``make_splits``; the dermoscopic photos
    exactly as a dermoscopic folder alone would be, so figures stay comparable with every earlier run; the phone
    photos by patient, with ``phone_ratios``). Photos of training-only folders (extra data sets) all go to train:
    the validation and test splits stay those of the yardstick folders."""
    assignment: dict[str, str] = {record.image_id: "train" for record in records if record.training_only}
    held = [record for record in records if not record.training_only]  # the yardstick folders
    for kind in sorted({record.photo_kind for record in held}):
        members = [record for record in held if record.photo_kind == kind]
        assignment.update(make_splits(members, phone_ratios if kind == "phone" else ratios, seed))
    return {record.image_id: assignment[record.image_id] for record in records}


def split_counts(records: Iterable[Record], splits: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """split → class code → number of images (every split and class present, zeros included)."""
    counts = {split: dict.fromkeys(CLASS_CODES, 0) for split in SPLITS}
    for record in records:
        split = splits.get(record.image_id)
        if split is not None:
            counts[split][record.label] += 1
    return counts


def save_splits(path: Path, splits: Mapping[str, str], records: Iterable[Record]) -> None:
    """Write the split as CSV ``image,lesion_id,label,split``, sorted by image id so files diff cleanly.

    ``records`` supplies the lesion id and label of each image; every record must have a split and vice versa.
    """
    path = Path(path)
    by_id = {record.image_id: record for record in records}
    unknown = sorted(set(splits) - set(by_id))
    unassigned = sorted(set(by_id) - set(splits))
    if unknown or unassigned:
        raise ValueError(
            f"splits and records disagree: {len(unknown)} split ids are not records (e.g. {unknown[:3]}), "
            f"{len(unassigned)} records have no split (e.g. {unassigned[:3]})"
        )
    bad = sorted({split for split in splits.values() if split not in SPLITS})
    if bad:
        raise ValueError(f"unknown split names {bad}; expected {', '.join(SPLITS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SPLIT_COLUMNS)
        for image_id in sorted(splits):
            record = by_id[image_id]
            writer.writerow([image_id, record.lesion_id or "", record.label, splits[image_id]])
    # Replace in one step so a crash never leaves half a split file for a later run to trust.
    os.replace(tmp, path)


def load_splits(path: Path) -> dict[str, str]:
    """Read a split file written by ``save_splits``: image id → split name."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file {path} does not exist")
    splits: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("image", "split") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}; expected {','.join(SPLIT_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            image_id, split = row["image"].strip(), row["split"].strip()
            if split not in SPLITS:
                raise ValueError(f"{path} line {line}: unknown split {split!r}; expected {', '.join(SPLITS)}")
            if image_id in splits:
                raise ValueError(f"{path} line {line}: image {image_id} is listed twice")
            splits[image_id] = split
    return splits


def split_fingerprint(path: Path) -> str:
    """sha256 of the split file's bytes, to record which split a run used."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- helpers ------------------------------------------------------------------------------------------------------


def _check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(r) for r in ratios)
    if len(values) != 3 or any(r < 0 for r in values) or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"ratios must be three non-negative numbers (train, val, test) summing to 1, got {ratios}")
    return values[0], values[1], values[2]


def _group_by_lesion(records: Sequence[Record]) -> dict[str, list[Record]]:
    without = [record for record in records if record.lesion_id is None]
    if records and len(without) == len(records):
        warnings.warn(
            "no lesion ids (metadata.csv with lesion_id): splitting by image, so photos of one lesion may end up "
            "in different splits and test scores may be optimistic",
            UserWarning,
            stacklevel=3,
        )
    elif without:
        warnings.warn(
            f"{len(without)} images have no lesion id; each is treated as a lesion of its own",
            UserWarning,
            stacklevel=3,
        )
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        # Prefixes keep a lesion id from colliding with an image id. Where the data records patients (PAD-UFES-20),
        # a patient's lesions stay together: other spots of one person share skin, camera and light.
        if record.patient_id is not None:
            key = f"patient:{record.patient_id}"
        elif record.lesion_id is not None:
            key = f"lesion:{record.lesion_id}"
        else:
            key = f"image:{record.image_id}"
        groups[key].append(record)
    return groups


def _lesion_label(group: list[Record]) -> str:
    """The lesion's class: its images' most common label (ties go to the earlier ISIC class)."""
    counts = Counter(record.label for record in group)
    return min(counts, key=lambda code: (-counts[code], _class_order(code)))


def _class_order(code: str) -> int:
    return CLASS_CODES.index(code) if code in CLASS_CODES else len(CLASS_CODES)


def _split_class(
    lesions: list[tuple[str, list[Record]]], val_ratio: float, test_ratio: float, train_ratio: float
) -> dict[str, list[tuple[str, list[Record]]]]:
    n_images = sum(len(group) for _, group in lesions)
    targets = {"test": test_ratio * n_images, "val": val_ratio * n_images}
    chosen: dict[str, list[tuple[str, list[Record]]]] = {split: [] for split in SPLITS}
    filled = {"test": 0, "val": 0}
    for lesion in lesions:
        size = len(lesion[1])
        for split in ("test", "val"):
            # Take the lesion only if the overshoot it causes is no larger than the shortfall it removes.
            if filled[split] + size / 2 <= targets[split]:
                chosen[split].append(lesion)
                filled[split] += size
                break
        else:
            chosen["train"].append(lesion)

    if len(lesions) >= 3:
        # Small classes: targets below half an image would leave val/test without the class, making its recall
        # undefined there. Move the smallest lesion from the largest other split.
        for split, ratio in (("test", test_ratio), ("val", val_ratio), ("train", train_ratio)):
            if ratio > 0 and not chosen[split]:
                donor = max((s for s in SPLITS if s != split), key=lambda s: len(chosen[s]))
                if len(chosen[donor]) > 1:
                    lesion = min(chosen[donor], key=lambda item: len(item[1]))
                    chosen[donor].remove(lesion)
                    chosen[split].append(lesion)
    return chosen


def records_of_the_split(data: Path | Sequence[Path], split_file: Path, trained_on: str | None, model: str,
                         error: type[ValueError] = ValueError) -> dict[str, list[Record]]:
    """The records of ``data`` by split (train, val, test) for a model that says it was trained on the split with
    fingerprint ``trained_on`` (``config.extra["split_fingerprint"]``; None: not recorded). Another split file
    raises ``error``: its held-out photos could be ones the network learned from."""
    from training.data import load_folders

    if trained_on and trained_on != split_fingerprint(split_file):
        raise error(f"{split_file} is not the split {model} was trained on (its fingerprint differs): its held-out "
                    "photos could be ones the network learned from")
    records = load_folders(data)
    splits = load_splits(split_file)
    return {name: [r for r in records if splits.get(r.image_id) == name] for name in ("train", "val", "test")}
