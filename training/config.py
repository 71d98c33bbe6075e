"""Training configs: a YAML file (defaults under ``training/configs/``), overridden by CLI flags.

``TrainConfig`` is a pydantic model: typed and validated where it is made (a YAML file, CLI flags, code), with
messages that name the setting and its valid values. The CLI's options map onto its fields
(``tests/unit/training/test_config_cli.py`` keeps them from drifting). The resolved config is saved with every run,
so a run can be repeated exactly.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_DIR = Path(__file__).parent / "configs"


class TrainConfig(BaseModel):
    """Everything a training run depends on. ``task`` picks the network family."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Literal["classification", "segmentation"]
    arch: str
    encoder: str | None = None
    input_size: tuple[int, int] = (144, 192)
    resize_policy: Literal["resize", "center_crop", "lesion_crop"] = "resize"
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    schedule: Literal["cosine", "constant"] = "cosine"
    warmup_fraction: float = 0.03
    augmentation: Literal["none", "light", "standard", "strong"] = "standard"
    imbalance: Literal["none", "sampler", "loss_weights", "both"] = "sampler"
    sampler_power: float = 0.75
    phone_share: float = 0.3      # with phone photos in the data: their share of the sampled batches (the rest
                                  # dermoscopic); classes are balanced within each kind by sampler_power
    extra_share: float = 0.25     # with training-only extra folders (--extra-data): their share of the sampled
                                  # batches; an epoch grows so that it still draws the main folders' photos (each
                                  # kind in its phone_share proportion) as often as without them
    extra_folder_shares: dict[str, float] = Field(default_factory=dict)  # an extra folder (by its name) with a share
                                  # of the batches of its own, e.g. {isic2019_84px: 0.1}; the others share extra_share
    logit_adjust: float = 0.0     # classification: τ > 0 adds τ·log(class mix of the batches) to the logits in the
                                  # loss only, so the plain argmax serves balanced accuracy (Menon et al., 2021)
    label_smoothing: float = 0.05
    mix: Literal["none", "mixup", "cutmix"] = "none"  # classification: batch mixing (training.augment.BatchMixer)
    mix_alpha: float = 1.0
    mix_probability: float = 0.5
    seg_loss: Literal["bce_dice", "bce_lovasz"] = "bce_dice"  # segmentation: BCE + soft Dice, or + Lovász hinge
    init_from: str | None = None  # a bundle folder whose weights start the run (fine-tuning); same network
    drop_rate: float = 0.2
    seed: int = 42
    device: str = "auto"
    workers: int = 0
    time_budget_min: float | None = None
    patience: int = 8
    pretrained: bool = False
    channels_last: bool = True
    cpu_bf16: bool = False        # on a CPU, train under bfloat16 autocast (1.5x images/s for EfficientNet-Lite here)
    ema_decay: float = 0.0        # > 0: validate and keep an exponential moving average of the weights
    tta: Literal["none", "hflip", "flips"] = "none"  # test-time views for calibration, evaluation and serving
    val_every: int = 1
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    split_seed: int = 42
    min_triage_sensitivity: float = 0.90
    max_train_images: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _usable(cls, data: Any) -> Any:
        """Refuse a setting no run could use when the config is made, not minutes later when the run needs it, in
        words that name the setting and what it may be (pydantic then checks the types)."""
        if not isinstance(data, dict):
            return data
        unknown = set(data) - set(cls.model_fields)
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; valid: {sorted(cls.model_fields)}")
        for name, info in cls.model_fields.items():
            if name in data and get_origin(info.annotation) is Literal and data[name] not in get_args(info.annotation):
                choices = ", ".join(str(choice) for choice in get_args(info.annotation))
                raise ValueError(f"unknown {name} {data[name]!r}; valid: {choices}")
        for name, low, high in _RANGES:
            value = data.get(name, cls.model_fields[name].default)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(f"{name} must be a number from {low} to {high}, not {value!r}")
        folder_shares = data.get("extra_folder_shares") or {}
        if not isinstance(folder_shares, dict) or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                                          and 0.0 < v < 1.0 for v in folder_shares.values()):
            raise ValueError(f"extra_folder_shares must map folder names to shares between 0 and 1, not "
                             f"{folder_shares!r}")
        total = float(data.get("extra_share", cls.model_fields["extra_share"].default)) + sum(folder_shares.values())
        if total > 0.9:
            raise ValueError(f"extra_share and extra_folder_shares add up to {total:g}; keep them at most 0.9 so that "
                             "the main photos are still drawn")
        lr = data.get("lr", cls.model_fields["lr"].default)
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0.0 < lr <= 10.0:
            raise ValueError(f"lr must be a number above 0 and up to 10.0 (e.g. 0.002), not {lr!r}")
        size = data.get("input_size", cls.model_fields["input_size"].default)
        if not isinstance(size, list | tuple) or len(size) != 2 or min(size) < 8:
            raise ValueError(f"input_size must be HEIGHTxWIDTH of at least 8x8 pixels, not {size!r}")
        return data

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with every non-None override applied; unknown keys are an error that lists valid ones."""
        unknown = set(overrides) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; valid: {sorted(type(self).model_fields)}")
        clean = {k: _coerce(k, v) for k, v in overrides.items() if v is not None}
        return type(self).model_validate({**self.model_dump(), **clean})


_RANGES = (("epochs", 1, 10_000), ("batch_size", 1, 4096), ("weight_decay", 0.0, 1.0),
           ("warmup_fraction", 0.0, 0.5), ("sampler_power", 0.0, 1.0), ("phone_share", 0.0, 1.0),
           ("extra_share", 0.0, 0.9), ("logit_adjust", 0.0, 10.0),
           ("label_smoothing", 0.0, 0.5), ("mix_alpha", 1e-3, 100.0), ("mix_probability", 0.0, 1.0),
           ("drop_rate", 0.0, 0.95), ("ema_decay", 0.0, 0.99999), ("min_triage_sensitivity", 0.5, 1.0))


def _coerce(key: str, value: Any) -> Any:
    if key in {"input_size", "split_ratios"} and isinstance(value, list | str):
        parts = value.replace("x", ",").split(",") if isinstance(value, str) else value
        cast = int if key == "input_size" else float
        return tuple(cast(p) for p in parts)
    return value


def default_config_path(task: str) -> Path:
    return CONFIG_DIR / ("classifier.yaml" if task == "classification" else "segmenter.yaml")


def load_config(path: Path | None, task: str, **overrides: Any) -> TrainConfig:
    """Read a YAML config (or the shipped default for ``task``) and apply overrides."""
    path = path or default_config_path(task)
    if not path.exists():
        raise FileNotFoundError(f"config file {path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config keys")
    data.setdefault("task", task)
    if data["task"] != task:
        raise ValueError(f"{path} is a {data['task']} config, not {task}")
    base = TrainConfig(task=data.pop("task"), arch=data.pop("arch"))
    config = base.with_overrides(**data).with_overrides(**overrides)
    if config.pretrained and overrides.get("pretrained") is None:
        # The config file asks for ImageNet weights; hub weights are opt-in (--pretrained), so a network whose
        # weights do not come with the installation (e.g. after --arch resnet18) trains from scratch, and says so.
        from skin_models.pretrained import has_offline_weights

        network = config.encoder or config.arch
        if not has_offline_weights(network):
            warnings.warn(f"no packaged ImageNet weights for {network}: training it from scratch (--pretrained "
                          "downloads hub weights when online)", stacklevel=2)
            config = config.model_copy(update={"pretrained": False})
    return config


def save_config(config: TrainConfig, path: Path) -> None:
    data = config.to_dict()
    data["input_size"] = list(config.input_size)
    data["split_ratios"] = list(config.split_ratios)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
