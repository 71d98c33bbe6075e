"""The HAM10000 layout reader: good folders, and bad ones that must fail with a message naming the culprit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_models.context import PatientContext
from skin_models.labels import CLASS_CODES
from training.data import (
    DatasetError,
    Record,
    check_dataset,
    dataset_fingerprint,
    load_image,
    load_mask,
    load_records,
)


def test_reads_records_with_labels_lesions_and_masks(make_layout) -> None:
    root = make_layout()
    records = load_records(root)
    assert [(r.image_id, r.label, r.lesion_id) for r in records] == [
        ("IMG_1", "mel", "LES_0"),
        ("IMG_2", "nv", "LES_1"),
        ("IMG_3", "vasc", "LES_2"),
    ]
    assert records[0].image_path == root / "images" / "IMG_1.jpg"
    assert records[0].mask_path == root / "masks" / "IMG_1_segmentation.png"


def test_tolerates_integer_one_hot_bom_and_blank_lines(make_layout) -> None:
    text = "\ufeffimage,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nIMG_1,0,0,1,0,0,0,0\n\n"
    records = load_records(make_layout(rows=[("IMG_1", "BCC")], csv_text=text))
    assert [r.label for r in records] == ["bcc"]


def test_accepts_png_and_jpeg_images_and_ham10000_metadata_name(make_layout) -> None:
    root = make_layout(rows=[("A", "DF"), ("B", "BKL")], lesions=False)
    (root / "images" / "A.jpg").rename(root / "images" / "A.png")
    (root / "images" / "B.jpg").rename(root / "images" / "B.jpeg")
    (root / "HAM10000_metadata.csv").write_text("lesion_id,image_id,dx\nHAM_1,A,df\nHAM_1,B,bkl\n", encoding="utf-8")
    records = load_records(root)
    assert [r.image_path.name for r in records] == ["A.png", "B.jpeg"]
    assert [r.lesion_id for r in records] == ["HAM_1", "HAM_1"]


def test_masks_and_metadata_are_optional(make_layout) -> None:
    records = load_records(make_layout(mask_size=None, lesions=False))
    assert all(r.mask_path is None and r.lesion_id is None for r in records)
    with pytest.raises(DatasetError, match="IMG_1 has no mask"):
        load_mask(records[0], (20, 15))


# --- bad folders ------------------------------------------------------------------------------------------------


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_records(tmp_path / "nowhere")


def test_empty_folder_names_ground_truth_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"GroundTruth\.csv is missing"):
        load_records(tmp_path)


def test_ground_truth_without_rows_is_an_error(make_layout) -> None:
    with pytest.raises(DatasetError, match="lists no images"):
        load_records(make_layout(rows=[]))


def test_unknown_label_column_is_named(make_layout) -> None:
    header = ("image", "MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC", "SCC")
    with pytest.raises(DatasetError, match=r"unknown label column 'SCC'"):
        load_records(make_layout(header=header))


def test_row_with_two_labels_names_line_image_and_columns(make_layout) -> None:
    text = "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nIMG_1,1.0,0.0,0.0,0.0,0.0,0.0,0.0\nIMG_2,1.0,1.0,0,0,0,0,0\n"
    with pytest.raises(DatasetError, match=r"line 3 \(image IMG_2\).*found MEL, NV"):
        load_records(make_layout(rows=[("IMG_1", "MEL"), ("IMG_2", "NV")], csv_text=text))


def test_row_without_label_is_an_error(make_layout) -> None:
    text = "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nIMG_1,0,0,0,0,0,0,0\n"
    with pytest.raises(DatasetError, match=r"line 2 \(image IMG_1\).*found none"):
        load_records(make_layout(rows=[("IMG_1", "MEL")], csv_text=text))


def test_non_numeric_or_soft_label_names_the_column(make_layout) -> None:
    root = make_layout(rows=[("IMG_1", "MEL")])
    (root / "GroundTruth.csv").write_text("image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nIMG_1,yes,0,0,0,0,0,0\n", "utf-8")
    with pytest.raises(DatasetError, match="line 2, column MEL"):
        load_records(root)
    (root / "GroundTruth.csv").write_text("image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nIMG_1,0.5,0.5,0,0,0,0,0\n", "utf-8")
    with pytest.raises(DatasetError, match="soft labels"):
        load_records(root)


def test_duplicate_image_is_an_error(make_layout) -> None:
    with pytest.raises(DatasetError, match="IMG_1 is listed twice"):
        load_records(make_layout(rows=[("IMG_1", "MEL"), ("IMG_1", "NV")]))


def test_missing_image_is_named_by_load_and_reported_by_check(make_layout) -> None:
    root = make_layout(images=["IMG_1", "IMG_3"])
    with pytest.raises(DatasetError, match=r"1 images listed in GroundTruth\.csv are missing.*IMG_2"):
        load_records(root)
    report = check_dataset(root, progress=False)
    assert report.missing_images == ["IMG_2"]
    assert not report.ok
    assert report.n_images == 3


def test_broken_image_is_reported_by_name_not_raised(make_layout) -> None:
    root = make_layout()
    path = root / "images" / "IMG_2.jpg"
    path.write_bytes(path.read_bytes()[:200])  # truncated JPEG
    report = check_dataset(root, progress=False)
    assert not report.ok
    assert [name.split(" ")[0] for name in report.broken_files] == ["IMG_2.jpg"]
    with pytest.raises(DatasetError, match=r"IMG_2\.jpg"):
        load_image(next(r for r in load_records(root) if r.image_id == "IMG_2"))


def test_check_skips_decoding_when_asked(make_layout) -> None:
    root = make_layout()
    (root / "images" / "IMG_2.jpg").write_bytes(b"not a jpeg")
    report = check_dataset(root, verify_images=False, progress=False)
    assert report.ok and not report.verified and report.broken_files == []


# --- masks ------------------------------------------------------------------------------------------------------


def test_mask_of_another_size_is_resized_nearest_and_noted(make_layout) -> None:
    root = make_layout(mask_size=(60, 45))  # 3x the 20x15 image, as in HAM10000
    record = load_records(root)[0]
    image = load_image(record)
    mask = load_mask(record, image.size)
    assert image.mode == "RGB" and image.size == (20, 15)
    assert mask.shape == (15, 20) and mask.dtype == bool
    assert set(np.unique(mask)) == {False, True}
    # The lesion is the dark middle of the image: the mask lines up with it.
    grey = np.asarray(image.convert("L"), dtype=float)
    assert grey[mask].mean() < grey[~mask].mean() - 50
    report = check_dataset(root, progress=False)
    assert report.ok and report.mask_size_mismatches == 3
    assert any("resized" in warning for warning in report.warnings)


def test_mask_odd_size_does_not_crash(make_layout) -> None:
    root = make_layout(mask_size=(33, 7))
    record = load_records(root)[0]
    assert load_mask(record, (20, 15)).shape == (15, 20)
    assert load_mask(record).shape == (7, 33)  # no size: the mask's own


def test_palette_mask_is_read_through_its_palette(make_layout) -> None:
    root = make_layout()
    record = load_records(root)[0]
    assert record.mask_path is not None
    # An inverted palette: index 0 is white, so raw indices are the opposite of the lesion.
    indices = np.ones((15, 20), np.uint8)
    indices[4:11, 5:15] = 0
    palette_mask = Image.fromarray(indices, "P")
    palette_mask.putpalette([255, 255, 255, 0, 0, 0] + [0] * (256 * 3 - 6))
    palette_mask.save(record.mask_path)
    mask = load_mask(record, (20, 15))
    assert mask[7, 10] and not mask[0, 0]
    assert mask.sum() == 7 * 10


def test_grey_mask_values_are_thresholded_at_127(make_layout) -> None:
    record = load_records(make_layout())[0]
    assert record.mask_path is not None
    Image.fromarray(np.array([[0, 127, 128, 255]], np.uint8), "L").save(record.mask_path)
    assert load_mask(record).tolist() == [[False, False, True, True]]


# --- fingerprints and the synthetic set ---------------------------------------------------------------------------


def test_fingerprint_depends_on_ids_and_labels_not_order_or_paths() -> None:
    records = [Record(f"I{i}", CLASS_CODES[i % 7], None, Path(f"/a/I{i}.jpg"), None) for i in range(10)]
    moved = [replace(r, image_path=Path("/elsewhere") / r.image_path.name) for r in records]
    assert dataset_fingerprint(records) == dataset_fingerprint(reversed(moved))
    relabelled = [replace(records[0], label="nv" if records[0].label != "nv" else "mel"), *records[1:]]
    assert dataset_fingerprint(records) != dataset_fingerprint(relabelled)


def test_metadata_dx_disagreement_is_a_warning(make_layout) -> None:
    root = make_layout()
    (root / "metadata.csv").write_text("image,lesion_id,dx\nIMG_1,L1,nv\nIMG_2,L2,nv\nIMG_3,L3,vasc\n", "utf-8")
    report = check_dataset(root, verify_images=False, progress=False)
    assert report.ok
    assert any("disagrees" in w and "IMG_1" in w for w in report.warnings)


def test_age_sex_and_body_site_are_read_from_the_metadata(make_layout) -> None:
    root = make_layout()
    (root / "metadata.csv").write_text(
        "image,lesion_id,dx,dx_type,age,sex,localization\n"
        "IMG_1,L1,mel,histo,65.0,male,back\n"
        "IMG_2,L2,nv,follow_up,,unknown,lower extremity\n"
        "IMG_3,L3,vasc,consensus,200,female,elbow\n", "utf-8")
    records = {r.image_id: r for r in load_records(root)}
    assert records["IMG_1"].context == PatientContext(65.0, "male", "back")
    assert records["IMG_2"].context == PatientContext(None, None, "lower extremity")
    # values outside the vocabulary are left out, not guessed; the data check counts them
    assert records["IMG_3"].context == PatientContext(None, "female", None)
    warnings = check_dataset(root, verify_images=False, progress=False).warnings
    assert any("the age of 1 rows" in w for w in warnings) and any("the site of 1 rows" in w for w in warnings)
    # a metadata file without those columns gives empty contexts
    (root / "metadata.csv").write_text("image,lesion_id,dx\nIMG_1,L1,mel\n", "utf-8")
    assert all(not r.context.given for r in load_records(root))


def test_synthetic_set_reads_back(synth_dir: Path) -> None:
    records = load_records(synth_dir)
    assert len(records) == 42
    assert {r.label for r in records} == set(CLASS_CODES)
    assert all(r.mask_path is not None and r.lesion_id for r in records)
