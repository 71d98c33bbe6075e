"""Data-set fixtures for the training tests: one small synthetic set per session, and hand-made bad folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_models.labels import ISIC_COLUMNS
from training.synth import generate_synthetic_dataset

SYNTH_N = 42
SYNTH_SEED = 7


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 42-image synthetic data set (read-only: tests must not modify it)."""
    root = tmp_path_factory.mktemp("synth") / "ham"
    generate_synthetic_dataset(root, SYNTH_N, SYNTH_SEED, progress=False)
    return root


LayoutFactory = Callable[..., Path]


@pytest.fixture
def make_layout(tmp_path: Path) -> LayoutFactory:
    """Build a tiny HAM10000-layout folder by hand; returns its path.

    ``rows`` are (image id, label column) pairs, written one-hot as "1.0"/"0.0"; ``header`` and ``csv_text``
    override the CSV for malformed cases; ``images`` says which ids get an image file (default: all).
    """

    def build(
        rows: Sequence[tuple[str, str]] = (("IMG_1", "MEL"), ("IMG_2", "NV"), ("IMG_3", "VASC")),
        *,
        header: Sequence[str] = ("image", *ISIC_COLUMNS),
        csv_text: str | None = None,
        images: Sequence[str] | None = None,
        mask_size: tuple[int, int] | None = (60, 45),
        lesions: bool = True,
    ) -> Path:
        root = tmp_path / "data"
        (root / "images").mkdir(parents=True)
        (root / "masks").mkdir()
        if csv_text is None:
            lines = [",".join(header)]
            for image_id, column in rows:
                lines.append(",".join([image_id, *("1.0" if c == column else "0.0" for c in header[1:])]))
            csv_text = "\n".join(lines) + "\n"
        (root / "GroundTruth.csv").write_text(csv_text, encoding="utf-8")
        if lesions:
            meta = ["image,lesion_id,dx"] + [
                f"{image_id},LES_{i},{col.lower()}" for i, (image_id, col) in enumerate(rows)
            ]
            (root / "metadata.csv").write_text("\n".join(meta) + "\n", encoding="utf-8")
        for image_id in images if images is not None else [r[0] for r in rows]:
            write_image(root / "images" / f"{image_id}.jpg")
            if mask_size is not None:
                write_mask(root / "masks" / f"{image_id}_segmentation.png", mask_size)
        return root

    return build


def write_image(path: Path, size: tuple[int, int] = (20, 15)) -> None:
    """A skin-coloured image with a dark disc in the middle."""
    pixels = np.full((size[1], size[0], 3), (220, 180, 160), np.uint8)
    pixels[size[1] // 4 : 3 * size[1] // 4, size[0] // 4 : 3 * size[0] // 4] = (60, 40, 30)
    Image.fromarray(pixels).save(path)


def write_mask(path: Path, size: tuple[int, int]) -> None:
    """The matching mask: the middle half is lesion (255)."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[size[1] // 4 : 3 * size[1] // 4, size[0] // 4 : 3 * size[0] // 4] = 255
    Image.fromarray(mask, "L").save(path)
