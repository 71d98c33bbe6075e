"""The verdict before any diagnosis: retake for photos too poor to judge, not_a_lesion for photos of something
else, ok otherwise; and the shipped not-a-lesion calibration on generated photos."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from skin_models.verdict import (
    EVIDENCE_NAMES,
    LIKENESS_FILE,
    LesionLikeness,
    Verdict,
    decide,
    photo_evidence,
)
from tests.fixtures.service import _scene, synthetic_lesion_photo
from training import ood


@pytest.fixture(scope="module")
def shipped() -> LesionLikeness:
    likeness = LesionLikeness.load()
    assert likeness is not None, f"{LIKENESS_FILE} is missing: run drskin calibrate-verdict"
    return likeness


def test_decide_orders_the_reasons() -> None:
    likeness = LesionLikeness(np.zeros(len(EVIDENCE_NAMES)), np.eye(len(EVIDENCE_NAMES)), 5.0, {})
    assert decide([], 1.0, likeness).verdict == Verdict.OK
    # Too dark to see: a retake even when the statistics are far off (a black photo is not "not a lesion").
    dark = decide(["too_dark", "no_lesion_found"], 50.0, likeness)
    assert dark.verdict == Verdict.RETAKE and dark.reasons == ("too_dark",)
    # Far from every lesion photo: not a lesion; a retake would not help.
    other = decide(["no_lesion_found"], 9.0, likeness)
    assert other.verdict == Verdict.NOT_A_LESION and other.reasons == ("not_skin_like",)
    small = decide(["too_small", "no_lesion_found"], 2.0, likeness)
    assert small.verdict == Verdict.RETAKE and small.reasons == ("too_small", "no_lesion_found")
    assert decide(["lesion_touches_border"], 2.0, likeness).verdict == Verdict.OK  # a warning, not a refusal
    assert decide([], 99.0, None).verdict == Verdict.OK  # no calibration: nothing is judged not a lesion
    assert decide(["low_confidence"], 1.0, likeness).as_dict() == {"verdict": "ok", "reasons": [],
                                                                    "likeness_distance": 1.0}


def test_evidence_does_not_depend_on_the_photo_size() -> None:
    photo = _scene(1600, 1200, seed=3)[0]
    small = np.asarray(Image.fromarray(photo).resize((400, 300), Image.Resampling.BOX))
    big, little = photo_evidence(photo), photo_evidence(small)
    assert big.shape == (len(EVIDENCE_NAMES),)
    assert np.allclose(big[:8], little[:8], atol=3.0)  # colour statistics: the same photo


def test_calibration_round_trips(tmp_path: object, shipped: LesionLikeness) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "likeness.json"
    path.write_text(shipped.to_json())
    again = LesionLikeness.load(path)
    assert again is not None and again.threshold == shipped.threshold
    assert np.allclose(again.precision, shipped.precision)
    assert LesionLikeness.load(Path(str(tmp_path)) / "absent.json") is None
    path.write_text(shipped.to_json().replace('"mean_y"', '"brightness"'))
    with pytest.raises(ValueError, match="calibrate-verdict"):
        LesionLikeness.load(path)


def test_shipped_calibration_refuses_generated_non_lesions_and_keeps_lesion_photos(shipped: LesionLikeness) -> None:
    kinds = {}
    for kind, image in ood.generate(60, seed=11):
        kinds.setdefault(kind, []).append(shipped.distance(image) > shipped.threshold)
    assert set(kinds) == set(ood.KINDS)
    for kind, refused in kinds.items():
        assert np.mean(refused) >= 0.8, f"{kind}: only {np.mean(refused):.0%} judged not a lesion"
    lesions = [np.asarray(Image.open(io.BytesIO(synthetic_lesion_photo(320, 240, seed=s)))) for s in range(12)]
    assert all(shipped.distance(p) < shipped.threshold for p in lesions)
    provenance = shipped.provenance
    assert "training photos" in provenance["fitted_on"] and provenance["command"] == "drskin calibrate-verdict"


def test_a_blurred_or_dark_lesion_photo_is_a_retake(shipped: LesionLikeness) -> None:
    from skin_models.quality import assess_quality

    photo, mask = _scene(320, 240, seed=4)
    blurred = np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(4)))
    found = [w.code for w in assess_quality(blurred, mask)]
    assert decide(found, shipped.distance(blurred), shipped).as_dict()["reasons"] == ["blurred"]
    dark = (photo * 0.15).astype(np.uint8)
    result = decide([w.code for w in assess_quality(dark, mask)], shipped.distance(dark), shipped)
    assert result.verdict == Verdict.RETAKE and "too_dark" in result.reasons


def test_a_photo_outside_a_kinds_envelope_is_not_like_that_kind(tmp_path: Path) -> None:
    import json

    from skin_models.verdict import EVIDENCE_NAMES, LesionLikeness, LikenessComponent, envelope

    rng = np.random.default_rng(0)
    training = rng.normal(0.0, 1.0, (200, len(EVIDENCE_NAMES)))
    low, high = envelope(training)
    broad = LesionLikeness(np.zeros(len(EVIDENCE_NAMES)), np.eye(len(EVIDENCE_NAMES)) / 100.0, 5.0, {},
                           kind="dermoscopic", low=low, high=high)
    inside, beyond = np.zeros(len(EVIDENCE_NAMES)), np.zeros(len(EVIDENCE_NAMES))
    beyond[8] = high[8] + 1.0  # e.g. a text render's stroke texture: near the broad Gaussian, outside the range
    distances = broad.distances(np.stack([inside, beyond]))
    assert distances[0] <= broad.threshold < distances[1]
    # a second kind whose envelope holds the photo takes it
    other = LikenessComponent("phone", np.zeros(len(EVIDENCE_NAMES)), np.eye(len(EVIDENCE_NAMES)) / 100.0, 5.0,
                              low - 2.0, high + 2.0)
    both = LesionLikeness(broad.mean, broad.precision, 5.0, {}, (other,), "dermoscopic", low, high)
    assert both.distances(beyond)[0] <= both.threshold
    # written and read back; a calibration written before envelopes existed still loads (no envelope)
    path = tmp_path / "likeness.json"
    path.write_text(both.to_json(), encoding="utf-8")
    loaded = LesionLikeness.load(path)
    assert loaded is not None and np.allclose(loaded.distances(beyond), both.distances(beyond))
    old = json.loads(both.to_json())
    for block in (old, *old["others"]):
        block.pop("low"), block.pop("high")
    path.write_text(json.dumps(old), encoding="utf-8")
    plain = LesionLikeness.load(path)
    assert plain is not None and plain.low is None and plain.distances(beyond)[0] <= plain.threshold
