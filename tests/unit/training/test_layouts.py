"""The data layouts as people download them: HAM10000 (Harvard Dataverse / Kaggle) and the ISIC 2018 Task 3 sets.

Each test builds a tiny folder of that shape (a few 20x15 images, the CSVs, some masks) and reads it through the
same ``load_records`` / ``check_dataset`` / ``drskin data check`` that the project's own layout goes through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skin_models.labels import ISIC_COLUMNS
from tests.unit.training.conftest import write_image, write_mask
from training.cli import app
from training.data import DatasetError, check_dataset, detect_layout, load_records

runner = CliRunner()

HAM = "HAM10000 (Harvard Dataverse / Kaggle)"
ISIC_TRAINING = "ISIC 2018 Task 3 training (challenge)"

# (image id, lesion id, dx): two photos of one lesion, as HAM10000 has.
HAM_ROWS = (
    ("ISIC_0024306", "HAM_0000118", "nv"),
    ("ISIC_0024307", "HAM_0000118", "nv"),
    ("ISIC_0024308", "HAM_0002730", "mel"),
    ("ISIC_0024309", "HAM_0001466", "bkl"),
)


def build_ham10000(
    root: Path, rows: Sequence[tuple[str, str, str]] = HAM_ROWS, *, masks: int = 3, images: int | None = None
) -> Path:
    """The Kaggle / Dataverse shape: metadata with dx, images split over two folders, the first ``masks`` masks."""
    lines = ["lesion_id,image_id,dx,dx_type,age,sex,localization"]
    lines += [f"{lesion},{image},{dx},histo,45.0,male,back" for image, lesion, dx in rows]
    root.mkdir(parents=True, exist_ok=True)
    (root / "HAM10000_metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for index, (image_id, _, _) in enumerate(rows[:images]):
        part = root / f"HAM10000_images_part_{1 + index % 2}"
        part.mkdir(exist_ok=True)
        write_image(part / f"{image_id}.jpg")
    (root / "HAM10000_segmentations_lesion_tschandl").mkdir(exist_ok=True)
    for image_id, _, _ in rows[:masks]:
        write_mask(root / "HAM10000_segmentations_lesion_tschandl" / f"{image_id}_segmentation.png", (60, 45))
    return root


def build_isic2018(
    root: Path,
    part: str = "Training",
    rows: Sequence[tuple[str, str, str]] = HAM_ROWS,
    *,
    truth_in_folder: bool = False,
    task1_masks: Sequence[str] = ("ISIC_0024308", "ISIC_0000000"),
    groupings: bool = False,
    images_dir: str | None = None,
) -> Path:
    """The challenge shape: Input/ folder, one-hot GroundTruth CSV, Task 1 masks (a different image set)."""
    images = root / (images_dir or f"ISIC2018_Task3_{part}_Input")
    images.mkdir(parents=True)
    truth = f"ISIC2018_Task3_{part}_GroundTruth"
    csv_lines = ["image," + ",".join(ISIC_COLUMNS)]
    for image_id, _, dx in rows:
        csv_lines.append(",".join([image_id, *("1.0" if c.lower() == dx else "0.0" for c in ISIC_COLUMNS)]))
        write_image(images / f"{image_id}.jpg")
    truth_file = root / truth / f"{truth}.csv" if truth_in_folder else root / f"{truth}.csv"
    truth_file.parent.mkdir(exist_ok=True)
    truth_file.write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    masks = root / f"ISIC2018_Task1_{part}_GroundTruth"
    masks.mkdir()
    for image_id in task1_masks:
        write_mask(masks / f"{image_id}_segmentation.png", (20, 15))
    if groupings:
        lines = ["image,lesion_id,diagnosis_confirm_type"] + [f"{i},{lesion},histopathology" for i, lesion, _ in rows]
        (root / "ISIC2018_Task3_Training_LesionGroupings.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def check_output(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["data", "check", str(root), "--no-progress", *args])
    return result.exit_code, result.output


# --- detection ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (build_ham10000, HAM),
        (build_isic2018, ISIC_TRAINING),
        (lambda root: build_isic2018(root, truth_in_folder=True), ISIC_TRAINING),
        (lambda root: build_isic2018(root, "Validation"), "ISIC 2018 Task 3 validation (challenge)"),
        (
            lambda root: build_isic2018(root, "Test", images_dir="ISIC2018_Task3_Test_Images"),
            "ISIC 2018 Task 3 test (challenge)",
        ),
    ],
)
def test_each_layout_is_detected_and_read(tmp_path: Path, build, expected: str) -> None:
    root = build(tmp_path / "data")
    assert detect_layout(root).name == expected
    records = load_records(root)
    assert [(r.image_id, r.label) for r in records] == [(image, dx) for image, _, dx in HAM_ROWS]
    exit_code, output = check_output(root)
    assert exit_code == 0, output
    assert f"layout: {expected}" in output


def test_project_layout_is_named_too(make_layout, tmp_path: Path) -> None:
    root = make_layout()
    assert detect_layout(root).name == "Dr. Skin (GroundTruth.csv + images/)"
    exit_code, output = check_output(root, "--json", str(tmp_path / "report.json"))
    assert exit_code == 0 and "layout: Dr. Skin" in output
    assert json.loads((tmp_path / "report.json").read_text())["layout"] == "Dr. Skin (GroundTruth.csv + images/)"


# --- HAM10000 (Harvard Dataverse / Kaggle) ------------------------------------------------------------------------


def test_ham10000_reads_dx_lesions_both_image_parts_and_masks(tmp_path: Path) -> None:
    root = build_ham10000(tmp_path / "ham", masks=3)
    records = load_records(root)
    assert [(r.label, r.lesion_id) for r in records] == [(dx, lesion) for _, lesion, dx in HAM_ROWS]
    assert [r.image_path.parent.name for r in records] == ["HAM10000_images_part_1", "HAM10000_images_part_2"] * 2
    assert records[0].mask_path == root / "HAM10000_segmentations_lesion_tschandl" / "ISIC_0024306_segmentation.png"
    assert records[3].mask_path is None
    report = check_dataset(root, progress=False)
    assert report.ok and report.n_masks == 3 and report.n_lesions == 3 and report.mask_size_mismatches == 3
    assert any("1 of 4 images have no mask in HAM10000_segmentations_lesion_tschandl/ (" in w for w in report.warnings)
    assert not any("disagrees" in w for w in report.warnings)  # the labels and the metadata are one file


def test_ham10000_second_part_not_unpacked_is_named(tmp_path: Path) -> None:
    root = build_ham10000(tmp_path / "ham", images=1)  # only part 1, and only its first image
    with pytest.raises(
        DatasetError, match=r"3 images listed in HAM10000_metadata\.csv are missing from .*part_1: ISIC_0024307"
    ):
        load_records(root)
    exit_code, output = check_output(root)
    assert exit_code == 1
    assert "layout: HAM10000" in output and "ISIC_0024309" in output


def test_ham10000_metadata_without_image_folders_says_where_images_go(tmp_path: Path) -> None:
    root = build_ham10000(tmp_path / "ham", images=0, masks=0)
    with pytest.raises(DatasetError, match=r"HAM10000_images_part_1 is missing: the images of the HAM10000"):
        detect_layout(root)


def test_ham10000_unknown_or_absent_dx_is_an_error(tmp_path: Path) -> None:
    root = build_ham10000(tmp_path / "ham", rows=[*HAM_ROWS[:2], ("ISIC_0024308", "HAM_1", "scc")])
    with pytest.raises(DatasetError, match=r"line 4 \(image ISIC_0024308\): unknown dx 'scc'"):
        load_records(root)
    (root / "HAM10000_metadata.csv").write_text("lesion_id,image_id,age\nHAM_1,ISIC_0024306,40\n", "utf-8")
    with pytest.raises(DatasetError, match=r"no label columns in the header .*or a dx column"):
        load_records(root)


# --- ISIC 2018 Task 3 ---------------------------------------------------------------------------------------------


def test_isic2018_masks_only_where_task1_has_the_image(tmp_path: Path) -> None:
    root = build_isic2018(tmp_path / "isic", truth_in_folder=True)
    records = load_records(root)
    assert [r.image_id for r in records if r.mask_path is not None] == ["ISIC_0024308"]
    report = check_dataset(root, progress=False)
    assert report.ok and report.n_masks == 1
    assert any("3 of 4 images have no mask" in w and "segmenter" in w for w in report.warnings)


def test_isic2018_without_lesion_ids_warns_each_image_is_its_own_group(tmp_path: Path) -> None:
    report = check_dataset(build_isic2018(tmp_path / "isic"), verify_images=False, progress=False)
    assert report.ok and report.n_lesions == 0
    warning = next(w for w in report.warnings if "no lesion ids" in w)
    assert "ISIC2018_Task3_Training_LesionGroupings.csv" in warning and "its own group" in warning


@pytest.mark.parametrize("source", ["groupings", "ham_metadata"])
def test_isic2018_training_takes_lesion_ids_from_a_file_beside_it(tmp_path: Path, source: str) -> None:
    root = build_isic2018(tmp_path / "isic", groupings=source == "groupings")
    if source == "ham_metadata":
        lines = ["lesion_id,image_id,dx"] + [f"{lesion},{image},{dx}" for image, lesion, dx in HAM_ROWS]
        (root / "HAM10000_metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [r.lesion_id for r in load_records(root)] == [lesion for _, lesion, _ in HAM_ROWS]
    report = check_dataset(root, verify_images=False, progress=False)
    assert report.n_lesions == 3 and not any("no lesion ids" in w for w in report.warnings)


def test_isic2018_input_without_ground_truth_names_the_csv(tmp_path: Path) -> None:
    root = build_isic2018(tmp_path / "isic")
    (root / "ISIC2018_Task3_Training_GroundTruth.csv").unlink()
    with pytest.raises(DatasetError, match=r"ISIC2018_Task3_Training_GroundTruth\.csv is missing"):
        load_records(root)


def test_isic2018_ground_truth_naming_missing_images(tmp_path: Path) -> None:
    root = build_isic2018(tmp_path / "isic")
    (root / "ISIC2018_Task3_Training_Input" / "ISIC_0024309.jpg").unlink()
    with pytest.raises(DatasetError, match=r"1 images listed in ISIC2018_Task3_Training_GroundTruth\.csv.*0024309"):
        load_records(root)


# --- several layouts, or none -------------------------------------------------------------------------------------


def test_two_layouts_in_one_folder_read_the_first_and_warn(tmp_path: Path) -> None:
    root = build_isic2018(build_ham10000(tmp_path / "both"))
    assert detect_layout(root).name == HAM
    report = check_dataset(root, verify_images=False, progress=False)
    assert any(f"also holds the {ISIC_TRAINING} layout" in w for w in report.warnings)


def test_unknown_folder_lists_every_layout_and_its_files(tmp_path: Path) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "labels.csv").write_text("image,dx\n", encoding="utf-8")
    with pytest.raises(DatasetError) as raised:
        load_records(tmp_path)
    message = str(raised.value)
    assert "GroundTruth.csv is missing" in message
    for needed in ("Dr. Skin", HAM, ISIC_TRAINING, "HAM10000_images_part_1/", "ISIC2018_Task3_Training_Input/"):
        assert needed in message
    exit_code, output = check_output(tmp_path)
    assert exit_code == 1 and "HAM10000_metadata.csv" in output


def test_split_names_the_layout(tmp_path: Path) -> None:
    rows = [(f"ISIC_{i:07d}", f"HAM_{i:07d}", ("nv", "mel")[i % 2]) for i in range(20)]
    root = build_ham10000(tmp_path / "ham", rows=rows, masks=0)
    result = runner.invoke(app, ["data", "split", str(root), "--out", str(tmp_path / "split.csv")])
    assert result.exit_code == 0, result.output
    assert f"layout: {HAM}" in result.output


def test_isic2018_training_takes_ham10000_masks_beside_it(tmp_path: Path) -> None:
    root = build_isic2018(tmp_path / "isic")
    build_ham10000(root / "ham")  # then move only its masks folder beside the challenge set
    (root / "ham" / "HAM10000_segmentations_lesion_tschandl").rename(root / "HAM10000_segmentations_lesion_tschandl")
    records = load_records(root)
    assert [r.mask_path.parent.name if r.mask_path else None for r in records] == [
        "HAM10000_segmentations_lesion_tschandl",
        "HAM10000_segmentations_lesion_tschandl",
        "ISIC2018_Task1_Training_GroundTruth",  # Task 1's own mask wins where there is one
        None,
    ]
