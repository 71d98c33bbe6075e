"""The model config that travels with the weights: everything needed to rebuild and feed a network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skin_models.context import ContextModel
from skin_models.labels import CLASS_CODES, get_label

Task = Literal["classification", "segmentation"]
ResizePolicy = Literal["resize", "center_crop", "lesion_crop"]
PhotoKind = Literal["dermoscopic", "phone"]
#: The kinds of photo a classifier may tell apart: through a dermoscope (lens on the skin, even light, magnified) or
#: a close-up taken with a phone camera. The order is the photo-kind head's: its logit is log P(phone)/P(dermoscopic).
PHOTO_KINDS: tuple[str, ...] = ("dermoscopic", "phone")

# ImageNet statistics: the usual default; a bundle may carry statistics measured on its own training data.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BUNDLE_FORMAT_VERSION = 1


class Int8Record(BaseModel):
    """Why the bundle's ``model.int8.onnx`` may be served: the quality it kept, measured on held-out photos.

    Written by ``drskin quantize`` only when the drop is within ``limit``; the service then runs the int8 network
    on the CPU (``DRSKIN_INT8=off`` turns it back to fp32)."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="what was compared: 'balanced_accuracy' (classifier) or 'dice' (segmenter)")
    split: str = Field(description="the photos it was measured on")
    images: int = Field(ge=1)
    fp32: float
    int8: float
    limit: float = Field(description="the largest drop accepted")
    sensitivity: tuple[float, float] | None = Field(
        default=None, description="classifier: malignant sensitivity at the triage threshold, (fp32, int8); its "
        "drop must stay within the same limit")
    calibration_images: int = Field(ge=1, description="training photos the activation ranges were calibrated on")
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def drop(self) -> float:
        return self.fp32 - self.int8


class KindCalibration(BaseModel):
    """How the classifier's answer is read for one kind of photo: its own temperature and triage threshold (chosen
    on that kind's validation photos), and what the served answer was measured to do on that kind's held-out test
    photos (what the site quotes: "on phone photos like this one, Dr. Skin flags about N in 10 skin cancers")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(gt=0.0)
    triage_threshold: float = Field(gt=0.0, lt=1.0)
    class_offsets: tuple[float, ...] | None = Field(
        default=None, description="added to the temperature-scaled class logits (in labels order) before the "
        "softmax: the post-hoc logit adjustment (Menon et al. 2021) chosen on this kind's validation photos, "
        "-tau * log(the network's average answer on them); None: none. The probabilities then lean less towards "
        "the classes the network saw most (moles), which is what raises the recall of the rarer cancers")
    adjustment: float = Field(default=0.0, ge=0.0, description="tau of class_offsets (0: none)")
    measured: dict[str, float] = Field(
        default_factory=dict, description="test-split figures of the served answer on this kind: images, "
        "balanced_accuracy (over the classes present), mel_recall, malignant_sensitivity, malignant_specificity, "
        "malignant_auc")


class ModelConfig(BaseModel):
    """How a network is built and fed. Saved as ``config.json`` beside the weights in a bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: Task
    arch: str = Field(description="timm model name (classification) or smp architecture (segmentation)")
    encoder: str | None = Field(default=None, description="smp encoder name, segmentation only")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="extra keyword arguments for the network factory (e.g. decoder_channels)"
    )
    labels: tuple[str, ...] = Field(default=CLASS_CODES, description="class codes in output order")
    input_size: tuple[int, int] = Field(description="network input (height, width) in pixels")
    resize_policy: ResizePolicy = Field(
        default="resize",
        description="'resize': whole image to input_size; 'center_crop': centre square of crop_fraction of the "
        "short side, then resize (the original project's policy); 'lesion_crop': the lesion's bounding box (from "
        "a lesion mask: the segmenter's when serving) grown by lesion_margin, then resize",
    )
    crop_fraction: float = Field(default=2 / 3, gt=0.0, le=1.0)
    lesion_margin: float = Field(default=0.15, ge=0.0, le=2.0,
                                 description="lesion_crop: context kept around the lesion, as a share of its size")
    lesion_min_fraction: float = Field(default=0.35, gt=0.0, le=1.0,
                                       description="lesion_crop: the crop spans at least this share of each side")
    interpolation: Literal["bilinear", "bicubic", "nearest"] = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    mask_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    tta: Literal["none", "hflip", "flips"] = Field(
        default="none", description="test-time augmentation: outputs averaged over mirrored views (skin_models.tta)"
    )
    temperature: float = Field(default=1.0, gt=0.0, description="softmax temperature fitted on validation")
    triage_threshold: float = Field(
        default=0.5, gt=0.0, lt=1.0, description="threshold on P(mel)+P(bcc)+P(akiec) chosen on validation"
    )
    context: ContextModel | None = Field(
        default=None, description="classifiers: how the patient's age, sex and body site shift the answer "
        "(skin_models.context); None: the photo alone")
    photo_kind_head: bool = Field(
        default=False, description="classifiers: the network has one output more than labels, the logit of a phone "
        "photo against a dermoscopic one (a logistic head on the pooled features, skin_models.photo_kind)")
    kinds: dict[str, KindCalibration] = Field(
        default_factory=dict, description="classifiers: the temperature and triage threshold per photo kind "
        "(PHOTO_KINDS), used for the kind the head names; a kind not here uses temperature / triage_threshold")
    int8: Int8Record | None = Field(
        default=None, description="set when model.int8.onnx passed its quality check and may be served")
    metrics: dict[str, float] = Field(default_factory=dict, description="validation metrics at selection time")
    data_fingerprint: str | None = None
    synthetic: bool = Field(default=False, description="trained on procedurally generated, not real, images")
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = BUNDLE_FORMAT_VERSION
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _known_labels(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(get_label(code).code for code in labels)

    @field_validator("input_size")
    @classmethod
    def _positive_size(cls, size: tuple[int, int]) -> tuple[int, int]:
        if min(size) < 16:
            raise ValueError(f"input_size {size} is too small; use at least 16x16")
        return size

    @model_validator(mode="after")
    def _segmentation_needs_encoder(self) -> ModelConfig:
        unknown_kinds = set(self.kinds) - set(PHOTO_KINDS)
        if unknown_kinds:
            raise ValueError(f"unknown photo kinds {sorted(unknown_kinds)}; valid: {', '.join(PHOTO_KINDS)}")
        for name, kind in self.kinds.items():
            if kind.class_offsets is not None and len(kind.class_offsets) != len(self.labels):
                raise ValueError(f"the {name} kind's class_offsets has {len(kind.class_offsets)} values for "
                                 f"{len(self.labels)} labels")
        if self.task == "segmentation" and not self.encoder:
            raise ValueError("a segmentation config needs an encoder (e.g. 'resnet34')")
        if self.task == "segmentation" and self.resize_policy == "lesion_crop":
            raise ValueError("'lesion_crop' is a classifier policy: the segmenter is what finds the lesion")
        return self

    @property
    def num_classes(self) -> int:
        """The network's outputs: one per label (and the photo-kind logit), or one mask channel."""
        if self.task != "classification":
            return 1
        return len(self.labels) + int(self.photo_kind_head)

    def calibration(self, kind: str | None) -> KindCalibration:
        """How to read the answer for a photo of ``kind`` (None: not told apart): the kind's own calibration, or
        the bundle's temperature and threshold with no class adjustment."""
        chosen = self.kinds.get(kind) if kind is not None else None
        if chosen is None:
            return KindCalibration(temperature=self.temperature, triage_threshold=self.triage_threshold)
        return chosen

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ModelConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version", 1)
        if version > BUNDLE_FORMAT_VERSION:
            raise ValueError(f"{path}: bundle format {version} is newer than this drskin understands "
                             f"({BUNDLE_FORMAT_VERSION}); upgrade drskin")
        return cls.model_validate(data)
