"""The one diagnosis chain (skin_models.pipeline): what it concludes from given network outputs, and the
in-process Diagnoser against tiny real bundles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_models.config import KindCalibration, ModelConfig
from skin_models.context import PatientContext, fit_context_model
from skin_models.labels import CLASS_CODES, class_index
from skin_models.pipeline import CLOSE_CALL, LOW_CONFIDENCE, Diagnoser, Pipeline
from skin_models.predict import ClassifierPredictor, SegmenterPredictor
from tests.fixtures.service import synthetic_lesion_mask, synthetic_lesion_photo
from tests.fixtures.stores import make_tiny_bundle

CLASSIFIER = ModelConfig(task="classification", arch="resnet10t", input_size=(32, 40), triage_threshold=0.3)
SEGMENTER = ModelConfig(task="segmentation", arch="unet", encoder="resnet18", input_size=(32, 64))


def _photo() -> Image.Image:
    import io

    return Image.open(io.BytesIO(synthetic_lesion_photo(320, 240, seed=3))).convert("RGB")


def _probabilities(**given: float) -> np.ndarray:
    rest = (1.0 - sum(given.values())) / (len(CLASS_CODES) - len(given))
    return np.array([given.get(code, rest) for code in CLASS_CODES])


@pytest.mark.parametrize(("probabilities", "code"), [
    (_probabilities(nv=0.35, bkl=0.3), "low_confidence"),
    (_probabilities(nv=0.52, bkl=0.52 - CLOSE_CALL / 2), "close_call"),
    (_probabilities(nv=0.9), None),
])
def test_a_judged_photo_says_when_the_model_is_unsure_or_torn(probabilities: np.ndarray, code: str | None) -> None:
    pipeline = Pipeline(CLASSIFIER, SEGMENTER)
    photo = pipeline.prepare(_photo())
    diagnosis = pipeline.finish(photo, np.log(probabilities), synthetic_lesion_mask(320, 240, seed=3))
    assert diagnosis.judged and diagnosis.label == "nv"
    confidence = [w for w in diagnosis.warnings if w.code in ("low_confidence", "close_call")]
    assert [w.code for w in confidence] == ([code] if code else [])
    if code == "close_call":
        assert "Nevus" in confidence[0].message or "nevus" in confidence[0].message.lower()
    assert LOW_CONFIDENCE == 0.5
    assert diagnosis.triage is not None and diagnosis.triage.concerning_probability == pytest.approx(
        sum(probabilities[class_index(c)] for c in ("mel", "bcc", "akiec")))
    assert diagnosis.measurements is not None and diagnosis.measurements.area_fraction > 0


def test_a_photo_that_cannot_be_judged_has_probabilities_but_no_label_triage_or_confidence_talk() -> None:
    pipeline = Pipeline(CLASSIFIER, SEGMENTER)
    black = pipeline.prepare(Image.new("RGB", (320, 240)))
    diagnosis = pipeline.finish(black, np.log(_probabilities(mel=0.99)), np.zeros((240, 320), bool))
    assert not diagnosis.judged and str(diagnosis.verdict.verdict) == "retake"
    assert diagnosis.label is None and diagnosis.triage is None
    assert "too_dark" in diagnosis.verdict.reasons
    assert not any(w.code in ("low_confidence", "close_call") for w in diagnosis.warnings)
    assert diagnosis.probabilities[class_index("mel")] == pytest.approx(0.99)


def test_the_context_is_weighed_when_the_model_has_one_and_reported_either_way() -> None:
    contexts = [PatientContext(80, "female", "face")] * 20 + [PatientContext(20, "male", "back")] * 20
    targets = [class_index("akiec")] * 20 + [class_index("nv")] * 20
    model = fit_context_model(contexts, targets, CLASS_CODES, weight=1.0)
    with_model = Pipeline(CLASSIFIER.model_copy(update={"context": model}), SEGMENTER)
    photo = with_model.prepare(_photo())
    even = _probabilities()
    mask = synthetic_lesion_mask(320, 240, seed=3)
    weighed = with_model.finish(photo, np.log(even), mask, PatientContext(80, "female", "face"))
    assert weighed.context_applied and weighed.label == "akiec"
    assert np.allclose(weighed.photo_probabilities, even) and not np.allclose(weighed.probabilities, even)
    alone = with_model.finish(photo, np.log(even), mask)
    assert not alone.context_applied and np.allclose(alone.probabilities, even)
    no_model = Pipeline(CLASSIFIER, SEGMENTER).finish(photo, np.log(even), mask, PatientContext(80, "female", "face"))
    assert not no_model.context_applied and no_model.context.site == "face"


def test_photos_are_worked_on_at_the_longer_side_limit() -> None:
    pipeline = Pipeline(CLASSIFIER, SEGMENTER, max_side=100)
    photo = pipeline.prepare(_photo())
    assert photo.image.size == (100, 75) and photo.original_size == (320, 240)
    assert photo.for_classifier is not None and photo.for_classifier.shape == (32, 40, 3)
    assert photo.for_segmenter.shape == (32, 64, 3)
    crop = Pipeline(CLASSIFIER.model_copy(update={"resize_policy": "lesion_crop"}), SEGMENTER)
    assert crop.needs_mask_first and crop.prepare(_photo()).for_classifier is None


def test_the_diagnoser_runs_both_networks_over_a_batch(tmp_path: Path) -> None:
    classifier = ClassifierPredictor(make_tiny_bundle(tmp_path / "clf"), backend="torch")
    segmenter = SegmenterPredictor(make_tiny_bundle(tmp_path / "seg", "segmentation"), backend="torch")
    photos = [_photo(), Image.new("RGB", (640, 480), (200, 150, 120))]
    diagnoses = Diagnoser(classifier, segmenter, max_side=512).diagnose(photos, [PatientContext(age=40), None])
    assert len(diagnoses) == 2
    assert diagnoses[0].image.size == (320, 240) and diagnoses[1].image.size == (512, 384)
    for found in diagnoses:
        assert found.mask is not None and found.mask.shape == (found.image.height, found.image.width)
        assert found.probabilities.sum() == pytest.approx(1.0)
    assert diagnoses[0].context.age == 40 and diagnoses[1].context.given == ()
    # without a segmenter: judged unsegmented, as /classify
    alone = Diagnoser(classifier, None).diagnose(photos[:1])[0]
    assert alone.mask is None and alone.measurements is None
    np.testing.assert_allclose(alone.photo_probabilities, diagnoses[0].photo_probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="1 contexts for 2 photos"):
        Diagnoser(classifier, segmenter).diagnose(photos, [None])
    assert Diagnoser(classifier, segmenter).diagnose([]) == []


def _with_kind_logit(probabilities: np.ndarray, phone_logit: float) -> np.ndarray:
    return np.append(np.log(probabilities), phone_logit)


KINDS = {"dermoscopic": KindCalibration(temperature=1.0, triage_threshold=0.3,
                                        measured={"images": 900, "malignant_sensitivity": 0.94}),
         "phone": KindCalibration(temperature=2.0, triage_threshold=0.6,
                                  measured={"images": 100, "malignant_sensitivity": 0.9})}


def test_the_photo_kind_picks_its_own_temperature_and_triage_threshold() -> None:
    pipeline = Pipeline(CLASSIFIER.model_copy(update={"photo_kind_head": True, "kinds": KINDS}), SEGMENTER)
    photo = pipeline.prepare(_photo())
    mask = synthetic_lesion_mask(320, 240, seed=3)
    probabilities = _probabilities(nv=0.5, bcc=0.45)
    dermoscopic = pipeline.finish(photo, _with_kind_logit(probabilities, -3.0), mask)
    phone = pipeline.finish(photo, _with_kind_logit(probabilities, 3.0), mask)
    assert dermoscopic.photo_kind is not None and dermoscopic.photo_kind.kind == "dermoscopic"
    assert dermoscopic.photo_kind.probability == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert phone.photo_kind is not None and phone.photo_kind.kind == "phone"
    assert np.allclose(dermoscopic.probabilities, probabilities)  # temperature 1
    # temperature 2 flattens: the top class falls, the smallest rise
    assert phone.probabilities.max() < dermoscopic.probabilities.max()
    assert dermoscopic.triage is not None and phone.triage is not None
    assert dermoscopic.triage.threshold == 0.3 and phone.triage.threshold == 0.6
    assert dermoscopic.triage.level == "medium" and phone.triage.level == "low"
    # a network without the head has no kind, and the config's own calibration
    plain = Pipeline(CLASSIFIER, SEGMENTER).finish(photo, np.log(probabilities), mask)
    assert plain.photo_kind is None and plain.triage is not None and plain.triage.threshold == 0.3
    with pytest.raises(ValueError, match="expected 8 outputs"):
        pipeline.finish(photo, np.log(probabilities), mask)


def test_a_kinds_class_offsets_shift_the_answer_and_the_likely_class_with_it() -> None:
    offsets = tuple({"mel": 1.0, "nv": -1.0}.get(code, 0.0) for code in CLASSIFIER.labels)  # towards mel, from nv
    adjusted = {**KINDS, "dermoscopic": KINDS["dermoscopic"].model_copy(
        update={"class_offsets": offsets, "adjustment": 1.0})}
    pipeline = Pipeline(CLASSIFIER.model_copy(update={"photo_kind_head": True, "kinds": adjusted}), SEGMENTER)
    photo = pipeline.prepare(_photo())
    mask = synthetic_lesion_mask(320, 240, seed=3)
    probabilities = _probabilities(nv=0.55, mel=0.4)
    found = pipeline.finish(photo, _with_kind_logit(probabilities, -3.0), mask)
    expected = probabilities * np.exp(offsets)
    np.testing.assert_allclose(found.probabilities, expected / expected.sum(), atol=1e-9)
    assert CLASSIFIER.labels[int(np.argmax(found.probabilities))] == "mel"
    assert found.triage is not None and found.triage.top_label == "mel"
    # the phone kind has no offsets: its answer keeps the network's lean
    phone = pipeline.finish(photo, _with_kind_logit(probabilities, 3.0), mask)
    assert CLASSIFIER.labels[int(np.argmax(phone.probabilities))] == "nv"
    with pytest.raises(ValueError, match="class_offsets has 3 values for 7 labels"):
        type(CLASSIFIER).model_validate({**CLASSIFIER.model_dump(), "kinds": {"phone": {
            **KINDS["phone"].model_dump(), "class_offsets": (1.0, 0.0, -1.0)}}})


@pytest.mark.parametrize("flag", ["bled", "changed"])
def test_a_spot_that_bled_or_changed_is_never_low_concern(flag: str) -> None:
    pipeline = Pipeline(CLASSIFIER, SEGMENTER)
    photo = pipeline.prepare(_photo())
    mask = synthetic_lesion_mask(320, 240, seed=3)
    benign = np.log(_probabilities(nv=0.95))
    assert pipeline.finish(photo, benign, mask).triage.level == "low"  # type: ignore[union-attr]
    flagged = pipeline.finish(photo, benign, mask, PatientContext(**{flag: True}))
    assert flagged.triage is not None and flagged.triage.level == "medium"
    assert flagged.triage.reason_code == "red_flag" and flagged.triage.red_flags == (flag,)
    said_no = pipeline.finish(photo, benign, mask, PatientContext(**{flag: False}))
    assert said_no.triage is not None and said_no.triage.level == "low"
    # a melanoma stays high: the rule only ever raises the level
    melanoma = pipeline.finish(photo, np.log(_probabilities(mel=0.9)), mask, PatientContext(**{flag: True}))
    assert melanoma.triage is not None and melanoma.triage.level == "high"


def test_a_concerning_lesion_the_segmenter_found_is_never_refused_as_not_a_lesion() -> None:
    from skin_models.verdict import LesionLikeness, photo_evidence

    photo_pixels = np.asarray(_photo())
    evidence = photo_evidence(photo_pixels)
    # a likeness model that finds this photo just beyond its threshold (a near miss: distance 1.2 × threshold)
    near = LesionLikeness(evidence + np.r_[1.2, np.zeros(len(evidence) - 1)], np.eye(len(evidence)), threshold=1.0,
                          provenance={})
    pipeline = Pipeline(CLASSIFIER, SEGMENTER, near)
    photo = pipeline.prepare(_photo())
    mask = synthetic_lesion_mask(320, 240, seed=3)
    benign = pipeline.finish(photo, np.log(_probabilities(nv=0.95)), mask)
    assert str(benign.verdict.verdict) == "not_a_lesion"
    concerning = pipeline.finish(photo, np.log(_probabilities(mel=0.6)), mask)
    assert concerning.judged and concerning.triage is not None and concerning.triage.level == "high"
    nothing_found = pipeline.finish(photo, np.log(_probabilities(mel=0.6)), np.zeros((240, 320), bool))
    assert not nothing_found.judged
    # far from every lesion photo (a street scene a network happens to find concerning): still not a lesion
    far = Pipeline(CLASSIFIER, SEGMENTER, LesionLikeness(evidence + 50.0, np.eye(len(evidence)), 1.0, {}))
    assert str(far.finish(photo, np.log(_probabilities(mel=0.6)), mask).verdict.verdict) == "not_a_lesion"
