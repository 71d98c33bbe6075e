"""The one diagnosis chain: photo → what each network needs → (the networks) → verdict, probabilities weighed with
the patient's context, triage, lesion mask, measurements and warnings.

Framework-free and shared. The service (``service.py``) runs the two networks through its batched BentoML services
and calls :meth:`Pipeline.prepare` before and :meth:`Pipeline.finish` after them; :class:`Diagnoser` runs them
in-process, a batch at a time, for ``drskin evaluate`` and the benchmarks. Nothing else strings these steps
together, so what is measured offline is what the service answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from skin_models.config import ModelConfig
from skin_models.context import PatientContext
from skin_models.contract import DEFAULT_MAX_SIDE
from skin_models.labels import concerning_indices
from skin_models.photo_kind import PhotoKindResult, read_outputs
from skin_models.postprocess import LesionMeasurements, lesion_measurements, top_k
from skin_models.quality import QualityWarning, assess_quality
from skin_models.triage import TriageResult, triage
from skin_models.verdict import LesionLikeness, Verdict, VerdictResult, decide

if TYPE_CHECKING:
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor

# The calibrated top probability below which the answer says the model is unsure.
LOW_CONFIDENCE = 0.5
# The top two classes closer than this: the answer says the model cannot tell them apart.
CLOSE_CALL = 0.15
#: A photo judged "not a lesion" is judged after all when the segmenter found a lesion, its concerning probability
#: reaches the triage threshold, and its likeness distance is within this factor of the threshold: near misses of
#: real lesions, not a street scene that a network happens to find concerning.
RESCUE_FACTOR = 1.5
# The longer side photos are worked on at: the networks see 64-200 px, and an outline finer than this is not read.
MAX_SIDE = DEFAULT_MAX_SIDE


@dataclass(frozen=True)
class Photo:
    """One decoded photo (EXIF-rotated, longer side at most ``max_side``) and its network-sized copies."""

    image: Image.Image
    original_size: tuple[int, int]  # (width, height) as uploaded, after EXIF rotation
    pixels: np.ndarray  # uint8 H×W×3 of ``image``
    for_classifier: np.ndarray | None  # None for a lesion_crop classifier: its crop needs the lesion mask first
    for_segmenter: np.ndarray


@dataclass(frozen=True)
class Diagnosis:
    """What the chain concludes about one photo. ``probabilities`` are computed whatever the verdict; only a
    judged photo (verdict ``ok``) has a ``label`` and a ``triage``."""

    verdict: VerdictResult
    image: Image.Image  # the photo as worked on (scaled to the pipeline's max_side): mask and measurements fit it
    labels: tuple[str, ...]
    probabilities: np.ndarray  # calibrated, weighed with the context when applied (labels order)
    photo_probabilities: np.ndarray  # the photo alone
    context: PatientContext
    context_applied: bool
    mask: np.ndarray | None  # the cleaned lesion mask at the photo's size; None when not segmented (/classify)
    measurements: LesionMeasurements | None
    warnings: list[QualityWarning]  # photo quality, then low_confidence / close_call for a judged photo
    triage: TriageResult | None
    photo_kind: PhotoKindResult | None = None  # dermoscopic or phone, when the classifier tells them apart
    triage_threshold: float | None = None  # the threshold for this kind of photo

    @property
    def judged(self) -> bool:
        return self.verdict.verdict == Verdict.OK

    @property
    def label(self) -> str | None:
        """The most probable class, only for a judged photo."""
        return self.top(1)[0][0] if self.judged else None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return top_k(self.probabilities, self.labels, k=k)


class Pipeline:
    """The steps around the networks, for one classifier and one segmenter config."""

    def __init__(self, classifier: ModelConfig, segmenter: ModelConfig | None,
                 likeness: LesionLikeness | None = None, *, max_side: int | None = MAX_SIDE) -> None:
        self.classifier = classifier
        self.segmenter = segmenter
        self.likeness = likeness
        self.max_side = max_side

    @property
    def needs_mask_first(self) -> bool:
        """Whether the classifier looks at a crop around the lesion (then segmenting comes first)."""
        return self.classifier.resize_policy == "lesion_crop"

    def prepare(self, uploaded: Image.Image) -> Photo:
        """A decoded photo (``skin_models.imaging.decode_image``) scaled to ``max_side``, with network inputs."""
        from skin_models.imaging import fit_within
        from skin_models.preprocess import resize_for_network

        image = uploaded if self.max_side is None else fit_within(uploaded, self.max_side, reducing_gap=3.0)
        return Photo(
            image=image,
            original_size=uploaded.size,
            pixels=np.asarray(image, dtype=np.uint8),
            for_classifier=None if self.needs_mask_first else _uint8(resize_for_network(image, self.classifier)),
            for_segmenter=_uint8(resize_for_network(image, self.segmenter)) if self.segmenter else np.empty(0),
        )

    def classifier_view(self, photo: Photo, mask: np.ndarray | None) -> np.ndarray:
        """What the classifier sees: the prepared view, or for a lesion_crop classifier the crop around ``mask``
        (the whole photo when no lesion was found)."""
        from skin_models.preprocess import resize_for_network

        if photo.for_classifier is not None:
            return photo.for_classifier
        return _uint8(resize_for_network(photo.image, self.classifier, mask))

    def mask_from(self, photo: Photo, network_map: np.ndarray) -> np.ndarray:
        """The segmenter's network-sized probability map → the cleaned boolean mask at the photo's size."""
        from skin_models.predict import lesion_mask

        if self.segmenter is None:
            raise ValueError("this pipeline has no segmenter")
        return lesion_mask(network_map, photo.image.size, self.segmenter)

    def finish(self, photo: Photo, outputs: np.ndarray, mask: np.ndarray | None,
               context: PatientContext | None = None) -> Diagnosis:
        """The verdict and everything after it, from the classifier network's raw ``outputs`` for this photo
        (averaged over its test-time views: class logits, and the photo-kind logit when it has the head) and the
        lesion ``mask`` (None: not segmented; the verdict then rests on the photo's quality and likeness)."""
        context = context or PatientContext()
        [reading] = read_outputs(outputs, self.classifier)
        found = assess_quality(photo.pixels, mask, photo_size=photo.original_size)
        distance = self.likeness.distance(photo.pixels) if self.likeness is not None else None
        verdict = decide([w.code for w in found], distance, self.likeness)
        photo_only = reading.probabilities
        model = self.classifier.context
        applied = model is not None and bool(context.given)
        weighed = np.asarray(model.apply(list(photo_only), context), dtype=np.float64) if (
            model is not None and applied) else photo_only
        labels = tuple(self.classifier.labels)
        if _concerning_lesion_found(verdict, weighed, labels, mask, reading.triage_threshold, self.likeness):
            verdict = decide([w.code for w in found], distance, None)  # judged on its quality alone
        warnings = list(found)
        decided = None
        if verdict.verdict == Verdict.OK:
            warnings += _confidence_warnings(weighed, labels)
            decided = triage(weighed, reading.triage_threshold, codes=labels, red_flags=context.red_flags)
        return Diagnosis(
            verdict=verdict, image=photo.image, labels=labels, probabilities=weighed, photo_probabilities=photo_only,
            context=context, context_applied=applied, mask=mask,
            measurements=lesion_measurements(photo.pixels, mask) if mask is not None else None,
            warnings=warnings, triage=decided, photo_kind=reading.photo_kind,
            triage_threshold=reading.triage_threshold)


def _concerning_lesion_found(verdict: VerdictResult, probabilities: np.ndarray, labels: tuple[str, ...],
                             mask: np.ndarray | None, threshold: float, likeness: LesionLikeness | None) -> bool:
    """Whether a photo judged "not a lesion" shows a lesion the segmenter found whose concerning probability
    reaches the triage threshold, and is a near miss of the likeness check (``RESCUE_FACTOR``): refusing it would
    hide the answer that matters most (3 of 67 dermoscopic melanomas of other HAM10000 patients were refused this
    way). Such a photo is judged on its quality alone, so a dark, blurred or too small one is still asked to be
    retaken."""
    if verdict.verdict != Verdict.NOT_A_LESION or mask is None or not mask.any() or likeness is None:
        return False
    distance = verdict.likeness_distance
    if distance is None or distance > RESCUE_FACTOR * likeness.threshold:
        return False
    return float(probabilities[concerning_indices(labels)].sum()) >= threshold


def _confidence_warnings(probabilities: np.ndarray, labels: tuple[str, ...]) -> list[QualityWarning]:
    from skin_models.labels import get_label

    (first, p1), (second, p2) = top_k(probabilities, labels, k=2)
    name1, name2 = get_label(first).name_en, get_label(second).name_en
    if p1 < LOW_CONFIDENCE:
        return [QualityWarning("low_confidence", f"The model is unsure: its best guess ({name1}) has only {p1:.0%}. "
                               "A sharper, closer, well-lit photo may help; if in doubt, have the lesion checked by "
                               "a doctor.")]
    if p1 - p2 < CLOSE_CALL:
        return [QualityWarning("close_call", f"The model cannot tell {name1} ({p1:.0%}) from {name2} ({p2:.0%}) "
                               "in this photo; read the result as either. If in doubt, have the lesion checked by a "
                               "doctor.")]
    return []


def _uint8(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.uint8)


class Diagnoser:
    """The chain with both networks in this process: a list of decoded photos in, one batch through each
    network, a ``Diagnosis`` per photo out (``drskin evaluate``, the benchmarks)."""

    def __init__(self, classifier: ClassifierPredictor, segmenter: SegmenterPredictor | None,
                 likeness: LesionLikeness | None = None, *, max_side: int | None = MAX_SIDE) -> None:
        self.classifier = classifier
        self.segmenter = segmenter
        self.pipeline = Pipeline(classifier.config, segmenter.config if segmenter else None, likeness,
                                 max_side=max_side)

    def diagnose(self, images: Sequence[Image.Image],
                 contexts: Sequence[PatientContext | None] | None = None) -> list[Diagnosis]:
        """One ``Diagnosis`` per photo; without a segmenter the photos are judged unsegmented (as /classify)."""
        if contexts is not None and len(contexts) != len(images):
            raise ValueError(f"{len(contexts)} contexts for {len(images)} photos")
        if not images:
            return []
        photos = [self.pipeline.prepare(image) for image in images]
        masks: list[np.ndarray | None] = [None] * len(photos)
        if self.segmenter is not None:
            maps = self.segmenter.network_maps_from_uint8(np.stack([p.for_segmenter for p in photos]))
            masks = [self.pipeline.mask_from(p, m) for p, m in zip(photos, maps, strict=True)]
        elif self.pipeline.needs_mask_first:
            raise ValueError("this classifier looks at a crop around the lesion: it needs the segmenter")
        views = np.stack([self.pipeline.classifier_view(p, m) for p, m in zip(photos, masks, strict=True)])
        outputs = self.classifier.logits_from_uint8(views)
        given = contexts if contexts is not None else [None] * len(photos)
        return [self.pipeline.finish(p, row, m, c)
                for p, row, m, c in zip(photos, outputs, masks, given, strict=True)]
