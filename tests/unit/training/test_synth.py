"""The synthetic HAM10000-layout generator."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_models.labels import CLASS_CODES
from training.data import check_dataset, load_image, load_mask, load_records
from training.synth import generate_synthetic_dataset, synthetic_class_counts


@pytest.mark.parametrize("n", [1, 7, 13, 14, 42, 200, 1000])
def test_class_counts_add_up_and_keep_every_class(n: int) -> None:
    counts = synthetic_class_counts(n)
    assert list(counts) == list(CLASS_CODES)
    assert sum(counts.values()) == n
    if n >= 14:
        assert min(counts.values()) >= 2
    if n >= 42:
        assert max(counts, key=counts.__getitem__) == "nv"


def test_synthetic_set_passes_check(synth_dir: Path) -> None:
    report = check_dataset(synth_dir, progress=False)
    assert report.ok, report.errors
    assert report.broken_files == [] and report.missing_images == []
    assert report.class_counts == synthetic_class_counts(42)
    assert report.n_images == report.n_masks == report.n_with_lesion_id == 42
    assert report.n_lesions < 42  # some lesions have two photos, as in HAM10000
    assert report.image_sizes == {"200x150": 42}
    assert report.mask_sizes == {"600x450": 42}  # 3x, as HAM10000's 600x450 masks


def test_readme_says_it_is_synthetic(synth_dir: Path) -> None:
    readme = (synth_dir / "README.md").read_text()
    assert "SYNTHETIC" in readme and "NOT MEDICAL DATA" in readme


def test_masks_outline_a_visible_lesion(synth_dir: Path) -> None:
    for record in load_records(synth_dir):
        image = np.asarray(load_image(record), dtype=float)
        mask = load_mask(record, (image.shape[1], image.shape[0]))
        assert 0.005 < mask.mean() < 0.9, record.image_id
        # The lesion's colour differs from the skin's (hairs and vignetting blur this only a little).
        difference = np.abs(image[mask].mean(axis=0) - np.median(image[~mask], axis=0)).sum()
        assert difference > 25, (record.image_id, record.label, difference)


def test_same_seed_same_data_set(tmp_path: Path) -> None:
    generate_synthetic_dataset(tmp_path / "a", 15, 5, size=(64, 48), progress=False)
    generate_synthetic_dataset(tmp_path / "b", 15, 5, size=(64, 48), progress=False)
    for name in ("GroundTruth.csv", "metadata.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    first = np.asarray(Image.open(tmp_path / "a" / "images" / "SYN_000003.jpg"))
    assert np.array_equal(first, np.asarray(Image.open(tmp_path / "b" / "images" / "SYN_000003.jpg")))
    with Image.open(tmp_path / "a" / "masks" / "SYN_000003_segmentation.png") as mask:
        assert mask.size == (192, 144) and mask.mode == "L"


def test_refuses_non_empty_folder_unless_overwriting(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_synthetic_dataset(out, 20, 1, size=(32, 24), progress=False)
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_synthetic_dataset(out, 10, 1, size=(32, 24), progress=False)
    generate_synthetic_dataset(out, 10, 2, size=(32, 24), progress=False, overwrite=True)
    assert len(list((out / "images").iterdir())) == 10  # stale SYN_000011..20 removed
    assert (out / "notes.txt").read_text() == "keep me"
    assert len(load_records(out)) == 10


@pytest.mark.slow
def test_two_hundred_images_take_seconds(tmp_path: Path) -> None:
    start = time.process_time()  # CPU time: other jobs on a shared machine do not count
    generate_synthetic_dataset(tmp_path / "big", 200, 0, progress=False)
    assert time.process_time() - start < 15
