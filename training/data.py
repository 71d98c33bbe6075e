"""Reading a data set in one of the layouts people have it in (``LAYOUTS``), into the same ``Record``s.

The project's own layout (``drskin data synth`` writes it; ``../shared/data/ham10000-dev`` is in it):

```
GroundTruth.csv                      image,MEL,NV,BCC,AKIEC,BKL,DF,VASC   (one-hot; "1" or "1.0")
metadata.csv | HAM10000_metadata.csv image|image_id,lesion_id,dx,...     (optional)
images/<id>.jpg                      (.jpeg and .png accepted too)
masks/<id>_segmentation.png          (optional; any size, resized nearest to the image when loaded)
```

and the downloads as they unpack: HAM10000 from the Harvard Dataverse or Kaggle (``HAM10000_metadata.csv`` with a
``dx`` column, ``HAM10000_images_part_1/`` and ``_2/``) and the ISIC 2018 Task 3 challenge sets
(``ISIC2018_Task3_Training_Input/``, ``ISIC2018_Task3_Training_GroundTruth.csv``; validation and test alike).
A label file is read by its header: one-hot ISIC columns, or a ``dx`` column.

``load_records`` is strict (a folder it accepts can be trained on); ``check_dataset`` reports everything it finds,
including files that do not decode, so a person can fix the folder.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from skin_models.context import ContextError, PatientContext
from skin_models.labels import CLASS_CODES, ISIC_COLUMNS, get_label

GROUND_TRUTH_FILE = "GroundTruth.csv"
METADATA_FILES = ("metadata.csv", "HAM10000_metadata.csv")
IMAGES_DIR = "images"
MASKS_DIR = "masks"
MASK_SUFFIX = "_segmentation.png"
# Earlier entries win when an id exists with several extensions.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ID_COLUMNS = ("image", "image_id", "img_id")
MASK_THRESHOLD = 127
ONE_HOT_HEADER = f"image,{','.join(ISIC_COLUMNS)}"
DX_HEADER = "lesion_id,image_id,dx,..."


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
    # The patient's age, sex and the body site, where the metadata records them (HAM10000's age, sex, localization),
    # and their own account of the spot where they were asked (PAD-UFES-20's itch, grew, bleed, …).
    context: PatientContext = field(default_factory=PatientContext)
    photo_kind: str = "dermoscopic"  # dermoscopic | phone (skin_models.config.PHOTO_KINDS): the folder's kind
    patient_id: str | None = None  # where recorded (PAD-UFES-20): splits then keep a patient's photos together
    fitzpatrick: int | None = None  # skin type 1-6 where recorded (PAD-UFES-20)
    source: str = ""  # the data folder's name (set by load_folders)
    training_only: bool = False  # from an extra folder that only adds training photos (never validation or test)


@dataclass(frozen=True)
class Layout:
    """One way a data set is laid out on disk; every layout is read the same way, into the same ``Record``s.

    Paths are relative to the data folder. Of ``labels`` and ``lesion_files`` the first that exists is used; every
    folder of ``image_dirs`` and ``mask_dirs`` that exists is searched, the earlier one winning for an id in two.
    """

    name: str
    labels: tuple[str, ...]
    image_dirs: tuple[str, ...]
    mask_dirs: tuple[str, ...] = ()
    lesion_files: tuple[str, ...] = ()  # image → lesion_id (and dx, cross-checked against the labels)
    photo_kind: str = "dermoscopic"  # the kind of photo the layout's data set holds
    signature: tuple[str, ...] = ()  # columns the label file must have to be this layout (when its name is shared)

    def labels_file(self, root: Path) -> Path | None:
        """The label file this layout would read under ``root``, if there is one."""
        found = _first_file(root, self.labels)
        if found is not None and self.signature and not set(self.signature) <= set(_header(found)):
            return None
        return found

    def image_folders(self, root: Path) -> list[Path]:
        """The image folders of this layout that exist under ``root``."""
        return [root / name for name in self.image_dirs if (root / name).is_dir()]

    def is_complete(self, root: Path) -> bool:
        """True when ``root`` has this layout's label file and at least one of its image folders."""
        return self.labels_file(root) is not None and bool(self.image_folders(root))

    def describe(self) -> str:
        """What the layout needs, for people reading an error."""
        text = f"{self.name}: labels in {_either(self.labels)}, images in {_folders(self.image_dirs)}"
        if self.mask_dirs:
            text += f"; optional masks <id>{MASK_SUFFIX} in {_folders(self.mask_dirs)}"
        if self.lesion_files:
            text += f"; optional lesion ids in {_either(self.lesion_files)}"
        return text


def _isic2018_task3(
    part: str, *, image_dirs: tuple[str, ...] = (), mask_dirs: tuple[str, ...] = (), lesion_files: tuple[str, ...] = ()
) -> Layout:
    # The ground-truth zip unpacks to a folder holding the CSV; some people move the CSV up beside the images.
    truth = f"ISIC2018_Task3_{part}_GroundTruth"
    return Layout(
        f"ISIC 2018 Task 3 {part.lower()} (challenge)",
        labels=(f"{truth}.csv", f"{truth}/{truth}.csv"),
        image_dirs=(f"ISIC2018_Task3_{part}_Input", *image_dirs),
        # Task 1 segmented other images than Task 3 classifies: only the ids in both get a mask.
        mask_dirs=(f"ISIC2018_Task1_{part}_GroundTruth", *mask_dirs),
        lesion_files=lesion_files,
    )


HAM10000_METADATA = "HAM10000_metadata.csv"
HAM10000_MASKS_DIR = "HAM10000_segmentations_lesion_tschandl"
# Checked in this order; the first complete one is read.
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "Dr. Skin (GroundTruth.csv + images/)",
        labels=(GROUND_TRUTH_FILE,),
        image_dirs=(IMAGES_DIR,),
        mask_dirs=(MASKS_DIR,),
        lesion_files=METADATA_FILES,
    ),
    Layout(
        "HAM10000 (Harvard Dataverse / Kaggle)",
        labels=(HAM10000_METADATA,),
        # Kaggle's folder names; the Dataverse zips are named without the second underscore.
        image_dirs=(
            "HAM10000_images_part_1",
            "HAM10000_images_part_2",
            "HAM10000_images_part1",
            "HAM10000_images_part2",
        ),
        mask_dirs=(HAM10000_MASKS_DIR,),
        lesion_files=(HAM10000_METADATA,),
    ),
    # Task 3's training set is HAM10000, so HAM10000's masks and lesion ids fit it.
    _isic2018_task3(
        "Training",
        mask_dirs=(HAM10000_MASKS_DIR,),
        lesion_files=("ISIC2018_Task3_Training_LesionGroupings.csv", HAM10000_METADATA),
    ),
    _isic2018_task3("Validation"),
    _isic2018_task3("Test", image_dirs=("ISIC2018_Task3_Test_Images",)),  # the Dataverse name
    # PAD-UFES-20 as Mendeley Data ships it: smartphone photos, labels in metadata.csv (img_id, diagnostic), the
    # PNGs in images/ or in the three parts of the zip.
    Layout(
        "PAD-UFES-20 (Mendeley Data, smartphone photos)",
        labels=("metadata.csv",),
        image_dirs=("images", "imgs_part_1", "imgs_part_2", "imgs_part_3", "images/imgs_part_1",
                    "images/imgs_part_2", "images/imgs_part_3"),
        lesion_files=("metadata.csv",),
        photo_kind="phone",
        signature=("img_id", "diagnostic"),
    ),
)
# PAD-UFES-20's diagnoses → HAM10000's classes. SCC has no HAM10000 class: akiec (actinic keratoses and
# intraepithelial carcinoma) is the closest, in the same malignant group; the original label is kept where read.
PAD_LABELS: dict[str, str] = {"MEL": "mel", "NEV": "nv", "BCC": "bcc", "ACK": "akiec", "SCC": "akiec", "SEK": "bkl"}
# PAD-UFES-20's body regions → HAM10000's localization words (skin_models.context.SITES).
PAD_REGIONS: dict[str, str] = {
    "FACE": "face", "NOSE": "face", "LIP": "face", "ARM": "upper extremity", "FOREARM": "upper extremity",
    "HAND": "hand", "NECK": "neck", "CHEST": "chest", "BACK": "back", "ABDOMEN": "abdomen", "THIGH": "lower extremity",
    "FOOT": "foot", "SCALP": "scalp", "EAR": "ear",
}
# Metadata columns read into the patient's account of the spot (skin_models.context.SYMPTOMS), by the names the data
# sets use (PAD-UFES-20: itch, grew, hurt, changed, bleed, elevation).
SYMPTOM_COLUMNS: dict[str, tuple[str, ...]] = {
    "changed": ("changed",), "grew": ("grew",), "bled": ("bleed", "bled"), "itched": ("itch", "itched"),
    "hurt": ("hurt",), "raised": ("elevation", "raised"),
}
PHONE_MARKERS = ("pad_metadata.csv",)  # a Dr. Skin-layout copy of PAD-UFES-20 keeps the official rows beside it


def folder_photo_kind(root: Path, layout: Layout) -> str:
    """The kind of photo a data folder holds: its layout's, or ``phone`` for a Dr. Skin-layout copy of a
    smartphone set (``PHONE_MARKERS``, or a ``PHOTO_KIND`` file saying so)."""
    marker = root / "PHOTO_KIND"
    if marker.is_file():
        kind = marker.read_text(encoding="utf-8").strip().lower()
        if kind not in ("dermoscopic", "phone"):
            raise DatasetError(f"{marker} says {kind!r}; it must say dermoscopic or phone")
        return kind
    if any((root / name).is_file() for name in PHONE_MARKERS):
        return "phone"
    return layout.photo_kind


@dataclass
class DatasetReport:
    """What ``check_dataset`` found. ``errors`` make the folder unusable; ``warnings`` do not."""

    root: Path
    n_images: int
    class_counts: dict[str, int]
    n_masks: int
    n_lesions: int
    n_with_lesion_id: int
    layout: str = ""
    photo_kind: str = "dermoscopic"
    label_mapping: dict[str, str] = field(default_factory=dict)  # the source's labels → classes, where mapped
    n_patients: int = 0
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
    layout: Layout
    labels_file: Path
    image_dirs: list[Path]
    records: list[Record]
    missing_images: list[str]
    metadata_file: str | None
    metadata_dx: dict[str, str]
    warnings: list[str]


def load_records(root: Path) -> list[Record]:
    """All records of the data set at ``root``, in label-file order; ``DatasetError`` if it is unusable."""
    scan = _scan(Path(root))
    if scan.missing_images:
        raise DatasetError(_missing_message(scan))
    return scan.records


def load_folders(folders: Path | Sequence[Path], training_only: Sequence[Path] = ()) -> list[Record]:
    """The records of one data folder or of several (each read in its own layout, with its own photo kind), then
    of the ``training_only`` folders (extra data sets that only add training photos), in order, each marked with
    its folder's name; an image id in two folders is an error (a split file could not tell them apart)."""
    roots = [Path(folders)] if isinstance(folders, str | Path) else [Path(f) for f in folders]
    extra = [Path(f) for f in training_only]
    records: list[Record] = []
    seen: dict[str, Path] = {}
    for root in [*roots, *extra]:
        for record in load_records(root):
            if record.image_id in seen:
                raise DatasetError(f"image {record.image_id} is in both {seen[record.image_id]} and {root}; give each "
                                   "photo once")
            seen[record.image_id] = root
            records.append(replace(record, source=root.name, training_only=root in extra))
    return records


def sources_summary(records: Sequence[Record], splits: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """What came from where: per data folder, its photo kind, whether it only adds training photos, and its
    photos per split (or in all) and per class."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        row = rows.setdefault(record.source, {"source": record.source, "photo_kind": record.photo_kind,
                                              "training_only": record.training_only, "images": Counter(),
                                              "classes": Counter()})
        row["images"][splits.get(record.image_id, "unassigned") if splits is not None else "all"] += 1
        row["classes"][record.label] += 1
    return [{**row, "images": dict(row["images"]), "classes": dict(row["classes"])} for row in rows.values()]


def detect_layout(root: Path) -> Layout:
    """The layout of the data folder at ``root``: the first of ``LAYOUTS`` whose files are all there.

    Raises ``DatasetError`` naming what is missing when a layout is half there, and listing every layout with the
    files it needs when none is.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    layout = next((layout for layout in LAYOUTS if layout.is_complete(root)), None)
    if layout is not None:
        return layout
    half = next((layout for layout in LAYOUTS if layout.labels_file(root) or layout.image_folders(root)), None)
    if half is None:
        accepted = "\n".join(f"  - {layout.describe()}" for layout in LAYOUTS)
        raise DatasetError(
            f"{root / GROUND_TRUTH_FILE} is missing, and so are the files of the other layouts drskin reads; "
            f"a data folder has one of these layouts:\n{accepted}"
        )
    if half.labels_file(root) is None:
        raise DatasetError(
            f"{root / half.labels[0]} is missing: a data folder in the {half.name} layout needs "
            f"{_either(half.labels)} with the labels"
        )
    raise DatasetError(
        f"{root / half.image_dirs[0]} is missing: the images of the {half.name} layout go in "
        f"{_either(half.image_dirs, '/<id>.jpg')}"
    )


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
        layout=scan.layout.name,
        n_images=len(records) + len(scan.missing_images),
        class_counts={code: counts.get(code, 0) for code in CLASS_CODES},
        n_masks=sum(record.mask_path is not None for record in records),
        n_lesions=len(lesion_ids),
        n_with_lesion_id=sum(record.lesion_id is not None for record in records),
        photo_kind=folder_photo_kind(root, scan.layout),
        label_mapping=dict(PAD_LABELS) if scan.layout.signature == ("img_id", "diagnostic") or folder_photo_kind(
            root, scan.layout) == "phone" else {},
        n_patients=len({record.patient_id for record in records if record.patient_id}),
        missing_images=list(scan.missing_images),
        verified=verify_images,
        fingerprint=dataset_fingerprint(records),
        warnings=list(scan.warnings),
    )
    if scan.missing_images:
        report.errors.append(_missing_message(scan))
    if scan.metadata_file is None:
        where = f"no {_either(scan.layout.lesion_files)}" if scan.layout.lesion_files else "none in this layout"
        report.warnings.append(
            f"no lesion ids ({where}): each image is its own group, so splits cannot keep a lesion's photos together"
        )
    elif report.n_with_lesion_id < len(records):
        n_without = len(records) - report.n_with_lesion_id
        report.warnings.append(f"{n_without} images have no lesion_id in {scan.metadata_file}")
    disagreeing = [
        r.image_id for r in records if r.image_id in scan.metadata_dx and scan.metadata_dx[r.image_id] != r.label
    ]
    if disagreeing:
        report.warnings.append(
            f"{scan.metadata_file} dx disagrees with {scan.labels_file.name} for {len(disagreeing)} images "
            f"(e.g. {', '.join(disagreeing[:5])})"
        )
    if report.n_masks < len(records):
        report.warnings.append(
            f"{len(records) - report.n_masks} of {len(records)} images have no mask in "
            f"{_folders(scan.layout.mask_dirs)} (the segmenter trains only where every image has one)"
        )
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
        raise DatasetError(f"image {record.image_id} has no mask (no {record.image_id}{MASK_SUFFIX} was found)")
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
    layout = detect_layout(root)
    labels_file = layout.labels_file(root)
    assert labels_file is not None  # detect_layout returns only complete layouts
    labels = _read_labels(labels_file)
    image_dirs = layout.image_folders(root)
    image_files = _index_folders(image_dirs, _index_images)
    mask_files = _index_folders([root / name for name in layout.mask_dirs], _index_masks)
    lesion_file = _first_file(root, layout.lesion_files)
    meta = _read_metadata(lesion_file) if lesion_file else _Metadata()
    lesion_ids, metadata_dx, contexts, warnings = meta.lesion_ids, meta.dx, meta.contexts, meta.warnings
    kind = folder_photo_kind(root, layout)
    also = [other.name for other in LAYOUTS if other is not layout and other.is_complete(root)]
    if also:
        warnings.append(f"{root} also holds the {', '.join(also)} layout; only the {layout.name} one is read")

    records: list[Record] = []
    missing: list[str] = []
    for image_id, label in labels.items():
        image_path = image_files.get(image_id)
        if image_path is None:
            missing.append(image_id)
            continue
        records.append(Record(image_id, label, lesion_ids.get(image_id), image_path, mask_files.get(image_id),
                              contexts.get(image_id, PatientContext()), photo_kind=kind,
                              patient_id=meta.patients.get(image_id), fitzpatrick=meta.fitzpatrick.get(image_id)))
    metadata_file = lesion_file.name if lesion_file else None
    return _Scan(layout, labels_file, image_dirs, records, missing, metadata_file, metadata_dx, warnings)


def _read_labels(path: Path) -> dict[str, str]:
    """image id → class code from a one-hot table or a dx table, validating the header and every row."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        if not header:
            raise DatasetError(f"{path} is empty: expected a header like {ONE_HOT_HEADER} or {DX_HEADER}")
        id_index = _id_index(path, header)
        row_label = _row_labeller(path, header, id_index)
        labels: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue  # trailing blank lines are common in hand-edited CSVs
            if len(row) != len(header):
                raise DatasetError(f"{path} line {line}: {len(row)} fields, the header has {len(header)}")
            image_id = _image_id(row[id_index])
            if not image_id:
                raise DatasetError(f"{path} line {line}: empty image id")
            if image_id in labels:
                raise DatasetError(f"{path} line {line}: image {image_id} is listed twice")
            labels[image_id] = row_label(line, image_id, row)
    if not labels:
        raise DatasetError(f"{path} lists no images")
    return labels


def _id_index(path: Path, header: Sequence[str]) -> int:
    index = next((i for i, column in enumerate(header) if column.strip().lower() in ID_COLUMNS), None)
    if index is None:
        raise DatasetError(f"{path}: no 'image' or 'image_id' column in the header {list(header)}")
    return index


def _row_labeller(path: Path, header: list[str], id_index: int) -> Callable[[int, str, list[str]], str]:
    """How a row of this label file gives its class: the one-hot ISIC columns, or else a ``dx`` column."""
    columns = [(index, column) for index, column in enumerate(header) if index != id_index]
    diagnostic = next((index for index, column in columns if column.lower() == "diagnostic"), None)
    if diagnostic is not None and not any(column.lower() == "dx" for _, column in columns):

        def pad_label(line: int, image_id: str, row: list[str]) -> str:
            original = row[diagnostic].strip().upper()
            if original not in PAD_LABELS:
                raise DatasetError(f"{path} line {line} (image {image_id}): unknown PAD-UFES-20 diagnostic "
                                   f"{row[diagnostic]!r}; expected one of {', '.join(PAD_LABELS)}")
            return PAD_LABELS[original]

        return pad_label
    if not any(column.upper() in ISIC_COLUMNS for _, column in columns):
        dx_index = next((index for index, column in columns if column.lower() == "dx"), None)
        if dx_index is None:
            raise DatasetError(
                f"{path}: no label columns in the header {header}; expected the one-hot ISIC columns "
                f"({ONE_HOT_HEADER}) or a dx column ({DX_HEADER})"
            )

        def dx_label(line: int, image_id: str, row: list[str]) -> str:
            try:
                return get_label(row[dx_index]).code
            except ValueError:
                raise DatasetError(
                    f"{path} line {line} (image {image_id}): unknown dx {row[dx_index]!r}; "
                    f"expected one of {', '.join(CLASS_CODES)}"
                ) from None

        return dx_label

    label_columns: list[tuple[int, str]] = []
    for index, column in columns:
        if column.upper() not in ISIC_COLUMNS:
            raise DatasetError(
                f"{path}: unknown label column {column!r}; expected the ISIC columns {', '.join(ISIC_COLUMNS)}"
            )
        label_columns.append((index, get_label(column).code))

    def one_hot_label(line: int, image_id: str, row: list[str]) -> str:
        positives = [code for index, code in label_columns if _one_hot_value(path, line, header[index], row[index])]
        if len(positives) != 1:
            found = ", ".join(c.upper() for c in positives) if positives else "none"
            raise DatasetError(
                f"{path} line {line} (image {image_id}): expected exactly one positive label column, found {found}"
            )
        return positives[0]

    return one_hot_label


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


def _index_folders(folders: Sequence[Path], index: Callable[[Path], dict[str, Path]]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in reversed(folders):  # earlier folders win
        found.update(index(folder))
    return found


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


@dataclass
class _Metadata:
    lesion_ids: dict[str, str] = field(default_factory=dict)
    dx: dict[str, str] = field(default_factory=dict)
    contexts: dict[str, PatientContext] = field(default_factory=dict)
    patients: dict[str, str] = field(default_factory=dict)
    fitzpatrick: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _read_metadata(path: Path) -> _Metadata:
    """Lesion ids, dx codes, the patient's context and account of the spot, patient ids and skin types by image id,
    from a metadata or lesion-groupings CSV (HAM10000's columns, or PAD-UFES-20's: ``gender``, ``region``,
    ``fitspatrick``, ``itch``…, a per-patient ``lesion_id``). A context value outside the vocabulary
    (``skin_models.context``) is left out, with a warning that counts them."""
    meta = _Metadata()
    unreadable: Counter[str] = Counter()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fieldnames = list(reader.fieldnames or [])
        id_column = fieldnames[_id_index(path, fieldnames)]
        columns = {name.strip().lower(): name for name in fieldnames}

        def column(*names: str) -> str | None:
            return next((columns[name] for name in names if name in columns), None)

        lesion_column = column("lesion_id")
        dx_column = column("dx", "diagnostic")
        patient_column = column("patient_id")
        skin_column = column("fitzpatrick", "fitspatrick")
        pad = "region" in columns and "localization" not in columns  # PAD-UFES-20's own metadata
        context_columns = {"age": column("age"), "sex": column("sex", "gender"),
                           "site": column("localization", "region"),
                           **{name: column(*aliases) for name, aliases in SYMPTOM_COLUMNS.items()}}
        if lesion_column is None:
            meta.warnings.append(f"{path.name} has no lesion_id column")
        for row in reader:
            image_id = _image_id(row.get(id_column) or "")
            if not image_id:
                continue
            patient = (row.get(patient_column) or "").strip() if patient_column else ""
            if patient:
                meta.patients[image_id] = patient
            if lesion_column is not None and (lesion := (row.get(lesion_column) or "").strip()):
                # PAD-UFES-20 numbers lesions per data set; the patient's id keeps them apart from other sets'.
                meta.lesion_ids[image_id] = f"PAD_{patient}_{lesion}" if pad and patient else lesion
            if dx_column is not None and (code := (row.get(dx_column) or "").strip()):
                try:
                    meta.dx[image_id] = PAD_LABELS.get(code.upper()) or get_label(code).code
                except ValueError:
                    meta.dx[image_id] = code
            if skin_column is not None and (skin := (row.get(skin_column) or "").strip()):
                try:
                    meta.fitzpatrick[image_id] = int(float(skin))
                except ValueError:
                    unreadable["fitzpatrick"] += 1
            values: dict[str, object] = {}
            for name, source in context_columns.items():
                if source is None:
                    continue
                raw = row.get(source)
                if name == "site" and pad and raw:
                    raw = PAD_REGIONS.get(raw.strip().upper())
                try:
                    values[name] = getattr(PatientContext.parse(**{name: raw}), name)
                except ContextError:
                    unreadable[name] += 1
            if any(value is not None for value in values.values()):
                meta.contexts[image_id] = PatientContext(**values)  # type: ignore[arg-type]
    for name, count in sorted(unreadable.items()):
        meta.warnings.append(f"{path.name}: the {name} of {count} rows is outside the vocabulary the classifier "
                             "knows (skin_models.context); those values are left out")
    return meta


def _image_id(cell: str) -> str:
    """An image id from a label or metadata cell: PAD-UFES-20 names the file (``PAT_1_2_3.png``)."""
    text = cell.strip()
    stem, ext = os.path.splitext(text)
    return stem if ext.lower() in IMAGE_EXTENSIONS else text


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [column.strip().lower() for column in next(csv.reader(handle), [])]


def _first_file(root: Path, names: Sequence[str]) -> Path | None:
    return next((root / name for name in names if (root / name).is_file()), None)


def _either(names: Sequence[str], suffix: str = "") -> str:
    return " or ".join(f"{name}{suffix}" for name in names)


def _folders(names: Sequence[str]) -> str:
    listed = ", ".join(f"{name}/" for name in names)
    return listed if len(names) == 1 else f"any of {listed}"


def _missing_message(scan: _Scan) -> str:
    missing = scan.missing_images
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    folders = " and ".join(str(folder) for folder in scan.image_dirs)
    return f"{len(missing)} images listed in {scan.labels_file.name} are missing from {folders}: {shown}"


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
