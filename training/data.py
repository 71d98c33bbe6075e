"""Reading a data set in the HAM10000 layout.

```
GroundTruth.csv                      image,MEL,NV,BCC,AKIEC,BKL,DF,VASC   (one-hot; "1" or "1.0")
metadata.csv | HAM10000_metadata.csv image|image_id,lesion_id,dx,...     (optional)
images/<id>.jpg                      (.jpeg and .png accepted too)
masks/<id>_segmentation.png          (optional; any size, resized nearest to the image when loaded)
```

``load_records`` is strict (a folder it accepts can be trained on); ``check_dataset`` reports everything it finds,
including files that do not decode, so a person can fix the folder.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from skin_models.labels import CLASS_CODES, ISIC_COLUMNS, get_label

GROUND_TRUTH_FILE = "GroundTruth.csv"
METADATA_FILES = ("metadata.csv", "HAM10000_metadata.csv")
IMAGES_DIR = "images"
MASKS_DIR = "masks"
MASK_SUFFIX = "_segmentation.png"
# Earlier entries win when an id exists with several extensions.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ID_COLUMNS = ("image", "image_id")
MASK_THRESHOLD = 127


class DatasetError(ValueError):
    """The data folder cannot be used as it is; the message names the file, column or row at fault."""


@dataclass(frozen=True)
class Record:
    """One labelled image of the data set."""

    image_id: str
    label: str  # class code, e.g. "mel"
    lesion_id: str | None
    image_path: Path
    mask_path: Path | None


@dataclass
class DatasetReport:
    """What ``check_dataset`` found. ``errors`` make the folder unusable; ``warnings`` do not."""

    root: Path
    n_images: int
    class_counts: dict[str, int]
    n_masks: int
    n_lesions: int
    n_with_lesion_id: int
    missing_images: list[str] = field(default_factory=list)
    broken_files: list[str] = field(default_factory=list)
    mask_size_mismatches: int = 0
    mask_sizes: dict[str, int] = field(default_factory=dict)
    image_sizes: dict[str, int] = field(default_factory=dict)
    verified: bool = False
    fingerprint: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the folder can be trained on."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data = asdict(self)
        data["root"] = str(self.root)
        data["ok"] = self.ok
        return data


@dataclass
class _Scan:
    records: list[Record]
    missing_images: list[str]
    metadata_file: str | None
    metadata_dx: dict[str, str]
    warnings: list[str]


def load_records(root: Path) -> list[Record]:
    """All records of the data set at ``root``, in GroundTruth.csv order; ``DatasetError`` if it is unusable."""
    scan = _scan(Path(root))
    if scan.missing_images:
        raise DatasetError(_missing_message(Path(root), scan.missing_images))
    return scan.records


def check_dataset(root: Path, *, verify_images: bool = True, progress: bool = True) -> DatasetReport:
    """Count, cross-check and (unless ``verify_images`` is off) decode every image and mask under ``root``.

    Raises ``DatasetError`` when the folder cannot be read at all (no folder, no or malformed GroundTruth.csv);
    per-file problems (missing or undecodable files) are collected in the report's ``errors`` instead.
    """
    root = Path(root)
    scan = _scan(root)
    records = scan.records
    counts = Counter(record.label for record in records)
    lesion_ids = {record.lesion_id for record in records if record.lesion_id is not None}
    report = DatasetReport(
        root=root,
        n_images=len(records) + len(scan.missing_images),
        class_counts={code: counts.get(code, 0) for code in CLASS_CODES},
        n_masks=sum(record.mask_path is not None for record in records),
        n_lesions=len(lesion_ids),
        n_with_lesion_id=sum(record.lesion_id is not None for record in records),
        missing_images=list(scan.missing_images),
        verified=verify_images,
        fingerprint=dataset_fingerprint(records),
        warnings=list(scan.warnings),
    )
    if scan.missing_images:
        report.errors.append(_missing_message(root, scan.missing_images))
    if scan.metadata_file is None:
        report.warnings.append("no metadata.csv: no lesion ids, so splits cannot be grouped by lesion")
    elif report.n_with_lesion_id < len(records):
        n_without = len(records) - report.n_with_lesion_id
        report.warnings.append(f"{n_without} images have no lesion_id in {scan.metadata_file}")
    disagreeing = [
        r.image_id for r in records if r.image_id in scan.metadata_dx and scan.metadata_dx[r.image_id] != r.label
    ]
    if disagreeing:
        report.warnings.append(
            f"{scan.metadata_file} dx disagrees with {GROUND_TRUTH_FILE} for {len(disagreeing)} images "
            f"(e.g. {', '.join(disagreeing[:5])})"
        )
    if report.n_masks < len(records):
        report.warnings.append(f"{len(records) - report.n_masks} of {len(records)} images have no mask")
    if verify_images:
        _verify_files(records, report, progress=progress)
    return report


def load_image(record: Record) -> Image.Image:
    """The record's image as RGB.

    EXIF orientation is deliberately not applied: masks were drawn on the stored pixels, and turning the image
    would misalign them.
    """
    try:
        with Image.open(record.image_path) as image:
            return image.convert("RGB")
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot decode image {record.image_path}: {exc}") from exc


def load_mask(record: Record, size: tuple[int, int] | None = None) -> np.ndarray:
    """The record's lesion mask as a bool array of shape (height, width).

    ``size`` is (width, height) as in PIL, normally the image's size; masks of another size are resized with
    nearest-neighbour so they stay binary. Palette masks are read through their palette (``convert("L")``),
    because some HAM10000 masks have an inverted palette whose raw indices are the opposite of the lesion.
    """
    if record.mask_path is None:
        raise DatasetError(f"image {record.image_id} has no mask in {MASKS_DIR}/")
    try:
        with Image.open(record.mask_path) as raw:
            mask = raw.convert("L")
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot decode mask {record.mask_path}: {exc}") from exc
    if size is not None and mask.size != (size[0], size[1]):
        mask = mask.resize((int(size[0]), int(size[1])), Image.Resampling.NEAREST)
    return np.asarray(mask) > MASK_THRESHOLD


def dataset_fingerprint(records: Iterable[Record]) -> str:
    """sha256 over the sorted (image id, label) pairs: equal for the same labelled images, whatever the paths."""
    digest = hashlib.sha256()
    for image_id, label in sorted((record.image_id, record.label) for record in records):
        digest.update(f"{image_id},{label}\n".encode())
    return digest.hexdigest()


# --- reading the layout -------------------------------------------------------------------------------------------


def _scan(root: Path) -> _Scan:
    if not root.exists():
        raise DatasetError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    ground_truth = root / GROUND_TRUTH_FILE
    if not ground_truth.is_file():
        raise DatasetError(f"{ground_truth} is missing: a data folder needs {GROUND_TRUTH_FILE} with the labels")
    labels = _read_ground_truth(ground_truth)
    images_dir = root / IMAGES_DIR
    if not images_dir.is_dir():
        raise DatasetError(f"{images_dir} is missing: the images go in {IMAGES_DIR}/<id>.jpg")
    image_files = _index_images(images_dir)
    mask_files = _index_masks(root / MASKS_DIR)
    metadata_file, lesion_ids, metadata_dx, warnings = _read_metadata(root)

    records: list[Record] = []
    missing: list[str] = []
    for image_id, label in labels.items():
        image_path = image_files.get(image_id)
        if image_path is None:
            missing.append(image_id)
            continue
        records.append(Record(image_id, label, lesion_ids.get(image_id), image_path, mask_files.get(image_id)))
    return _Scan(records, missing, metadata_file, metadata_dx, warnings)


def _read_ground_truth(path: Path) -> dict[str, str]:
    """image id → class code, validating the header and every row."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        if not header:
            raise DatasetError(f"{path} is empty: expected a header like image,{','.join(ISIC_COLUMNS)}")
        id_column = next((c for c in header if c.lower() in ID_COLUMNS), None)
        if id_column is None:
            raise DatasetError(f"{path}: no 'image' column in the header {header}")
        id_index = header.index(id_column)
        label_columns: list[tuple[int, str]] = []
        for index, column in enumerate(header):
            if index == id_index:
                continue
            if column.upper() not in ISIC_COLUMNS:
                raise DatasetError(
                    f"{path}: unknown label column {column!r}; expected the ISIC columns {', '.join(ISIC_COLUMNS)}"
                )
            label_columns.append((index, get_label(column).code))
        if not label_columns:
            raise DatasetError(f"{path}: no label columns; expected {', '.join(ISIC_COLUMNS)}")

        labels: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue  # trailing blank lines are common in hand-edited CSVs
            if len(row) != len(header):
                raise DatasetError(f"{path} line {line}: {len(row)} fields, the header has {len(header)}")
            image_id = row[id_index].strip()
            if not image_id:
                raise DatasetError(f"{path} line {line}: empty image id")
            if image_id in labels:
                raise DatasetError(f"{path} line {line}: image {image_id} is listed twice")
            positives = [code for index, code in label_columns if _one_hot_value(path, line, header[index], row[index])]
            if len(positives) != 1:
                found = ", ".join(c.upper() for c in positives) if positives else "none"
                raise DatasetError(
                    f"{path} line {line} (image {image_id}): expected exactly one positive label column, found {found}"
                )
            labels[image_id] = positives[0]
    if not labels:
        raise DatasetError(f"{path} lists no images")
    return labels


def _one_hot_value(path: Path, line: int, column: str, cell: str) -> bool:
    try:
        value = float(cell)
    except ValueError:
        raise DatasetError(f"{path} line {line}, column {column}: {cell!r} is not 0 or 1") from None
    if value not in (0.0, 1.0):
        raise DatasetError(
            f"{path} line {line}, column {column}: {cell!r} is not 0 or 1 (soft labels are not supported)"
        )
    return value == 1.0


def _index_images(images_dir: Path) -> dict[str, Path]:
    # One directory listing instead of a stat per id and extension: HAM10000 has 10k files.
    found: dict[str, tuple[int, Path]] = {}
    with os.scandir(images_dir) as entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            ext = ext.lower()
            if ext not in IMAGE_EXTENSIONS or not entry.is_file():
                continue
            rank = IMAGE_EXTENSIONS.index(ext)
            if stem not in found or rank < found[stem][0]:
                found[stem] = (rank, Path(entry.path))
    return {stem: path for stem, (_, path) in found.items()}


def _index_masks(masks_dir: Path) -> dict[str, Path]:
    if not masks_dir.is_dir():
        return {}
    with os.scandir(masks_dir) as entries:
        return {
            entry.name[: -len(MASK_SUFFIX)]: Path(entry.path)
            for entry in entries
            if entry.name.endswith(MASK_SUFFIX) and entry.is_file()
        }


def _read_metadata(root: Path) -> tuple[str | None, dict[str, str], dict[str, str], list[str]]:
    """(file name, image id → lesion id, image id → dx code, warnings); all empty when there is no metadata."""
    path = next((root / name for name in METADATA_FILES if (root / name).is_file()), None)
    if path is None:
        return None, {}, {}, []
    lesion_ids: dict[str, str] = {}
    dx: dict[str, str] = {}
    warnings: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {name.strip().lower(): name for name in reader.fieldnames or []}
        id_column = next((columns[c] for c in ID_COLUMNS if c in columns), None)
        if id_column is None:
            raise DatasetError(f"{path}: no 'image' or 'image_id' column in the header {reader.fieldnames}")
        lesion_column = columns.get("lesion_id")
        dx_column = columns.get("dx")
        if lesion_column is None:
            warnings.append(f"{path.name} has no lesion_id column")
        for row in reader:
            image_id = (row.get(id_column) or "").strip()
            if not image_id:
                continue
            if lesion_column is not None and (lesion := (row.get(lesion_column) or "").strip()):
                lesion_ids[image_id] = lesion
            if dx_column is not None and (code := (row.get(dx_column) or "").strip()):
                try:
                    dx[image_id] = get_label(code).code
                except ValueError:
                    dx[image_id] = code
    return path.name, lesion_ids, dx, warnings


def _missing_message(root: Path, missing: Sequence[str]) -> str:
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return f"{len(missing)} images listed in {GROUND_TRUTH_FILE} are missing from {root / IMAGES_DIR}: {shown}"


# --- decoding every file ------------------------------------------------------------------------------------------


def _decode_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()  # a full decode: truncated or corrupt files fail here, not on open
        return image.size


def _verify_one(record: Record) -> tuple[Record, tuple[int, int] | str, tuple[int, int] | str | None]:
    """(record, image size or error, mask size or error or None)."""
    image_result: tuple[int, int] | str
    mask_result: tuple[int, int] | str | None = None
    try:
        image_result = _decode_size(record.image_path)
    except Exception as exc:  # any decoder failure means a broken file; PIL raises several kinds
        image_result = f"{type(exc).__name__}: {exc}"
    if record.mask_path is not None:
        try:
            mask_result = _decode_size(record.mask_path)
        except Exception as exc:
            mask_result = f"{type(exc).__name__}: {exc}"
    return record, image_result, mask_result


def _verify_files(records: Sequence[Record], report: DatasetReport, *, progress: bool) -> None:
    image_sizes: Counter[str] = Counter()
    mask_sizes: Counter[str] = Counter()
    broken: list[str] = []
    # PIL releases the GIL while decoding, so threads give a real speed-up on 10k small files.
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_verify_one, records, chunksize=64)
        for record, image_result, mask_result in tqdm(
            results,
            total=len(records),
            desc="decoding",
            unit="image",
            disable=not progress,
            leave=False,
            mininterval=0.5,
        ):
            if isinstance(image_result, str):
                broken.append(f"{record.image_path.name} ({image_result})")
            else:
                image_sizes[_size_text(image_result)] += 1
            if isinstance(mask_result, str):
                broken.append(f"{record.mask_path.name if record.mask_path else '?'} ({mask_result})")
            elif mask_result is not None:
                mask_sizes[_size_text(mask_result)] += 1
                if not isinstance(image_result, str) and mask_result != image_result:
                    report.mask_size_mismatches += 1
    report.broken_files = broken
    report.image_sizes = dict(image_sizes.most_common())
    report.mask_sizes = dict(mask_sizes.most_common())
    if broken:
        report.errors.append(f"{len(broken)} files do not decode: {', '.join(b.split(' ')[0] for b in broken[:5])}")
    if report.mask_size_mismatches:
        report.warnings.append(
            f"{report.mask_size_mismatches} masks differ in size from their image "
            f"(masks {_sizes_text(report.mask_sizes)}; images {_sizes_text(report.image_sizes)}); "
            "they are resized (nearest) to the image when loaded"
        )


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _sizes_text(sizes: dict[str, int], limit: int = 3) -> str:
    shown = ", ".join(sizes if len(sizes) <= limit else list(sizes)[:limit])
    return shown + (f" and {len(sizes) - limit} more" if len(sizes) > limit else "")
