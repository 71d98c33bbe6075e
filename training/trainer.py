"""Training runs for the classifier and the segmenter, each logged to MLflow end to end.

A run: read the data set → lesion-grouped split (or a given split file) → decode once into memory → train
under a time budget with early stopping → keep the best validation weights → calibrate (temperature, triage
threshold, mask threshold) on the validation split → report on the test split (never used for choices) →
save the model bundle and log everything (config, per-epoch metrics, system info, fingerprints, plots).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, WeightedRandomSampler
from tqdm.auto import tqdm

from skin_models.bundle import save_bundle
from skin_models.config import IMAGENET_MEAN, IMAGENET_STD, ModelConfig
from skin_models.context import ContextModel, PatientContext, fit_context_model
from skin_models.device import resolve_device
from skin_models.factory import create_classifier, create_segmenter
from skin_models.labels import CLASS_CODES
from skin_models.postprocess import softmax
from skin_models.pretrained import normalisation, starting_weights
from training import tracking
from training.augment import BatchMixer, build_augmentation
from training.calibration import choose_triage_threshold, fit_temperature
from training.config import TrainConfig, save_config
from training.data import Record, dataset_fingerprint, load_folders, sources_summary
from training.loop import LoopSettings, LoopState, load_checkpoint, train
from training.metrics import balanced_log_loss, classification_metrics, segmentation_metrics
from training.reports import save_confusion_matrix, save_mask_grid, save_per_class_csv, save_roc_curves
from training.splits import load_splits, make_kind_splits, save_splits, split_fingerprint
from training.torchdata import (
    CachedArrays,
    LesionDataset,
    LesionMasks,
    cache_records,
    class_log_prior,
    class_loss_weights,
    class_sampling_weights,
    kind_sampling_weights,
    sampling_groups,
)


@dataclass
class TrainResult:
    """What a finished run produced."""

    run_id: str
    task: str
    bundle_dir: Path
    val_metrics: dict[str, Any]
    test_metrics: dict[str, Any]
    epochs: int
    wall_seconds: float
    synthetic: bool


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def is_synthetic(records: list[Record], data: Path | Sequence[Path]) -> bool:
    """Synthetic sets are marked by their generator (a SYNTHETIC marker file or SYN_ image ids)."""
    folders = [data] if isinstance(data, Path) else list(data)
    return any((Path(f) / "SYNTHETIC").exists() for f in folders) or any(r.image_id.startswith("SYN_")
                                                                          for r in records)


def data_folders(data: Path | Sequence[Path]) -> list[Path]:
    """One data folder or several, as a list."""
    return [Path(data)] if isinstance(data, str | Path) else [Path(f) for f in data]


def prepare_splits(records: list[Record], config: TrainConfig, split_file: Path | None,
                   out_dir: Path) -> tuple[dict[str, str], Path]:
    """Use ``split_file`` when given, else make a lesion-grouped stratified split and save it."""
    if split_file is not None:
        return load_splits(split_file), split_file
    splits = make_kind_splits(records, ratios=config.split_ratios, seed=config.split_seed)
    path = out_dir / "splits.csv"
    save_splits(path, splits, records)
    return splits, path


def _model_config(config: TrainConfig) -> ModelConfig:
    model_kwargs = dict(config.extra.get("model_kwargs", {}))
    if config.task == "classification":
        model_kwargs.setdefault("drop_rate", config.drop_rate)
    # A network family whose ImageNet weights expect other input statistics keeps them, pretrained or not, so
    # serving feeds it exactly as training did.
    mean, std = normalisation(config.encoder or config.arch) or (IMAGENET_MEAN, IMAGENET_STD)
    return ModelConfig(task=config.task, arch=config.arch, encoder=config.encoder, input_size=config.input_size,
                       resize_policy=config.resize_policy, model_kwargs=model_kwargs, tta=config.tta, mean=mean,
                       std=std)


def _build_network(config: TrainConfig, model_config: ModelConfig) -> nn.Module:
    if config.task == "classification":
        return create_classifier(config.arch, pretrained=config.pretrained, **model_config.model_kwargs)
    assert config.encoder
    return create_segmenter(config.arch, config.encoder, pretrained=config.pretrained, **model_config.model_kwargs)


@torch.inference_mode()
def predict_arrays(model: nn.Module, arrays: CachedArrays, model_config: ModelConfig, device: torch.device,
                   batch_size: int = 128, *, use_tta: bool = False) -> np.ndarray:
    """Raw network outputs (logits) for cached, un-augmented arrays; averaged over the config's test-time views
    when ``use_tta`` (as the served predictors do), so calibration sees what serving computes."""
    from skin_models import tta
    from skin_models.preprocess import normalise

    def run(batch: torch.Tensor) -> np.ndarray:
        return model(batch.to(device).contiguous(memory_format=torch.channels_last)).float().cpu().numpy()

    mode = model_config.tta if use_tta else "none"
    model.eval()
    outputs = [tta.apply(run, normalise(arrays.images[start : start + batch_size], model_config), mode,
                         spatial=model_config.task == "segmentation")
               for start in range(0, len(arrays.images), batch_size)]
    return np.concatenate(outputs) if outputs else np.empty((0,))


def _dice_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    probs = torch.sigmoid(logits)
    inter = (probs * targets).sum(dim=(1, 2, 3))
    total = probs.sum(dim=(1, 2, 3)) + targets.sum(dim=(1, 2, 3))
    return (1.0 - (2.0 * inter + 1.0) / (total + 1.0)).mean()


def _segmentation_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(logits, targets) + _dice_loss(logits, targets)


def segmentation_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The segmenter's training loss: ``bce_dice`` (BCE + soft Dice) or ``bce_lovasz`` (BCE + the Lovász hinge,
    a convex surrogate of each image's Jaccard index, Berman et al. 2018: it weighs an image whose mask is
    badly wrong as much as any other, which is what the thresholded Jaccard punishes)."""
    if name == "bce_dice":
        return _segmentation_loss
    if name != "bce_lovasz":
        raise ValueError(f"unknown segmentation loss {name!r}; valid: bce_dice, bce_lovasz")
    from segmentation_models_pytorch.losses import LovaszLoss

    lovasz = LovaszLoss(mode="binary", per_image=True, from_logits=True)

    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(logits, targets) + lovasz(logits, targets)

    return loss


def load_initial_weights(model: nn.Module, model_config: ModelConfig, bundle: Path,
                         split_fingerprint: str | None = None) -> None:
    """Start ``model`` from the weights of ``bundle`` (fine-tuning): the same network, or a clear error.

    When the bundle records the split it was trained on, the run must use that split too: on another split, the
    new validation and test images would include ones the starting weights were trained on."""
    from skin_models.bundle import load_bundle

    source_model, source = load_bundle(bundle)
    keys = ("task", "arch", "encoder", "model_kwargs", "labels")
    differ = [f"{k} {getattr(source, k)!r} ≠ {getattr(model_config, k)!r}" for k in keys
              if getattr(source, k) != getattr(model_config, k)]
    if differ:
        raise ValueError(f"--init-from {bundle}: a different network from this run's ({'; '.join(differ)}); "
                         "fine-tune with the same arch, encoder and settings as the bundle")
    trained_on = source.extra.get("split_fingerprint")
    if split_fingerprint and trained_on and trained_on != split_fingerprint:
        raise ValueError(f"--init-from {bundle}: that model was trained on another split than this run's, so this "
                         "run's validation and test images could be ones it learned from; give the split file of "
                         "the run that trained it (--split-file …/splits.csv)")
    model.load_state_dict(source_model.state_dict())


def _best_mask_threshold(prob_maps: np.ndarray, masks: np.ndarray) -> float:
    """The threshold among 0.3…0.7 with the best mean validation Dice (masks at network size)."""
    best, best_dice = 0.5, -1.0
    for threshold in np.arange(0.3, 0.71, 0.05):
        dice = segmentation_metrics(list(prob_maps > threshold), list(masks))["dice"]
        if dice > best_dice:
            best, best_dice = float(threshold), dice
    return round(best, 2)


def run_training(data: Path | Sequence[Path], config: TrainConfig, *, split_file: Path | None = None,
                 run_name: str | None = None, resume: Path | None = None, work_dir: Path | None = None,
                 progress: bool = True, lesion_segmenter: Path | None = None,
                 extra_data: Sequence[Path] = ()) -> TrainResult:
    """Train one model on the data folder ``data`` (or several: e.g. dermoscopic and phone photos, each folder in
    its own layout) and log the run to MLflow. A segmenter trains on the photos that have a mask. ``extra_data``
    folders only add training photos (``config.extra_share`` of the batches); validation and test stay ``data``'s.

    A ``lesion_crop`` classifier trains on crops around the ground-truth lesion masks; it is validated,
    calibrated and tested on crops around the masks of ``lesion_segmenter`` (a segmenter bundle), as it will be
    served, or on the ground-truth masks when no segmenter is given (then its validation is optimistic)."""
    import mlflow

    started = time.monotonic()
    seed_everything(config.seed)
    device = resolve_device(config.device)
    if device.type == "cpu":
        torch.set_num_threads(int(os.environ.get("DRSKIN_TORCH_THREADS", os.cpu_count() or 1)))
    task = config.task
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix=f"drskin-{task}-"))
    work_dir.mkdir(parents=True, exist_ok=True)

    folders = data_folders(data)
    records = load_folders(folders, training_only=[Path(f) for f in extra_data])
    synthetic = is_synthetic(records, folders)
    if task == "segmentation" and any(r.mask_path for r in records) and not all(r.mask_path for r in records):
        unmasked = sum(r.mask_path is None for r in records)
        tqdm.write(f"note: {unmasked} photos have no lesion mask (e.g. phone photos); the segmenter trains on the "
                   f"{len(records) - unmasked} that have one")
        records = [r for r in records if r.mask_path is not None]
    splits, split_path = prepare_splits(records, config, split_file, work_dir)
    by_split: dict[str, list[Record]] = {"train": [], "val": [], "test": []}
    for record in records:
        split = splits.get(record.image_id)
        if split in by_split:
            by_split[split].append(record)
    if config.max_train_images and len(by_split["train"]) > config.max_train_images:
        rng = random.Random(config.seed)
        by_split["train"] = rng.sample(by_split["train"], config.max_train_images)
    if not by_split["train"] or not by_split["val"]:
        raise ValueError(f"the split leaves {len(by_split['train'])} training and {len(by_split['val'])} validation "
                         "images; the data set is too small to train on")

    model_config = _model_config(config)
    with_masks = task == "segmentation"
    lesion_masks, lesion_source = _lesion_masks(model_config, lesion_segmenter, device)
    cached = {name: cache_records(recs, model_config, with_masks=with_masks, desc=f"decoding {name}",
                                  progress=progress, lesion_masks=None if name == "train" else lesion_masks)
              for name, recs in by_split.items() if recs}

    model = _build_network(config, model_config)
    pretrained_source = starting_weights(model)
    if config.init_from and resume is None:
        load_initial_weights(model, model_config, Path(config.init_from), split_fingerprint(split_path))
    train_set = LesionDataset(cached["train"], model_config, build_augmentation(config.augmentation), task)
    n_classes = len(CLASS_CODES)
    generator = torch.Generator().manual_seed(config.seed)
    sampler = None
    loss_weight = None
    logit_shift = None
    if task == "classification":
        targets = cached["train"].targets
        sampled = config.imbalance in {"sampler", "both"}
        if config.logit_adjust:
            logit_shift = config.logit_adjust * class_log_prior(
                targets, n_classes, config.sampler_power if sampled else 0.0).to(device)
        groups, shares, extra_total = sampling_groups(by_split["train"], config.phone_share, config.extra_share,
                                                      config.extra_folder_shares)
        if sampled and len(set(groups)) > 1:
            # Each kind of photo, and the extra folders, get their share of the batches (config.phone_share,
            # config.extra_share, config.extra_folder_shares), classes balanced within each. With extra folders an
            # epoch grows so that it still draws the main folders' photos as often as without them.
            weights = kind_sampling_weights(targets, groups, config.sampler_power, n_classes, shares)
            main = int(sum(not g.startswith("extra") for g in groups))
            per_epoch = round(main / (1.0 - extra_total)) if extra_total else len(targets)
            sampler = WeightedRandomSampler(weights.tolist(), num_samples=per_epoch, replacement=True,
                                            generator=generator)
        elif sampled:
            weights = class_sampling_weights(targets, config.sampler_power, n_classes)
            sampler = WeightedRandomSampler(weights.tolist(), num_samples=len(targets),
                                            replacement=True, generator=generator)
        if config.imbalance in {"loss_weights", "both"}:
            loss_weight = class_loss_weights(targets, n_classes).to(device)
    loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=sampler is None, sampler=sampler,
                        num_workers=config.workers, drop_last=len(train_set) > config.batch_size,
                        generator=generator, persistent_workers=config.workers > 0)

    mixer = None
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    if task == "classification":
        smoothing = config.label_smoothing
        if config.mix != "none":
            mixer = BatchMixer(config.mix, n_classes, alpha=config.mix_alpha, probability=config.mix_probability,
                               seed=config.seed)

        def classification_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            if logit_shift is not None:
                logits = logits + logit_shift
            return nn.functional.cross_entropy(logits, targets, weight=loss_weight, label_smoothing=smoothing)

        loss_fn = classification_loss

        val_kinds = np.array([r.photo_kind for r in by_split["val"]])

        def validate(net: nn.Module) -> dict[str, float]:
            logits = predict_arrays(net, cached["val"], model_config, device)
            result = classification_metrics(cached["val"].targets, softmax(logits))
            metrics = {"val_balanced_accuracy": result["balanced_accuracy"], "val_accuracy": result["accuracy"],
                       "val_mel_recall": result["per_class"]["mel"]["recall"],
                       "val_malignant_auc": result["malignant_auc"]}
            if len(set(val_kinds)) > 1:  # each kind's figure too, over the classes it has
                for kind in sorted(set(val_kinds)):
                    chosen = val_kinds == kind
                    metrics[f"val_{kind}_balanced_accuracy"] = present_balanced_accuracy(
                        cached["val"].targets[chosen], logits[chosen].argmax(axis=1))
            return metrics

        metric_name = "val_balanced_accuracy"
    else:
        loss_fn = segmentation_loss(config.seg_loss)

        def validate(net: nn.Module) -> dict[str, float]:
            logits = predict_arrays(net, cached["val"], model_config, device)
            assert cached["val"].masks is not None
            result = segmentation_metrics(list(logits[:, 0] > 0), list(cached["val"].masks))
            return {"val_dice": result["dice"], "val_iou": result["iou"],
                    "val_thresholded_jaccard": result["thresholded_jaccard"]}

        metric_name = "val_dice"

    state, optimizer_state, ema_state, best_state = None, None, None, None
    checkpoint_path = work_dir / "checkpoint.pt"
    if resume is not None:
        payload, state = load_checkpoint(resume)
        model.load_state_dict(payload["model"])
        optimizer_state = payload["optimizer"]
        ema_state = payload.get("ema_model")
        best_state = payload.get("best_model")
        checkpoint_path = resume

    tracking.configure_tracking()
    experiment_id = tracking.ensure_experiment(tracking.EXPERIMENTS[task])
    resume_run = state.mlflow_run_id if state else None
    with mlflow.start_run(run_id=resume_run, experiment_id=None if resume_run else experiment_id,
                          run_name=run_name) as run:
        mlflow.set_tags({
            tracking.TAG_TASK: task,
            tracking.TAG_SYNTHETIC: str(synthetic).lower(),
            tracking.TAG_SELECTION_METRIC: tracking.SELECTION_METRICS[task],
            tracking.TAG_DATA_FINGERPRINT: dataset_fingerprint(records),
            tracking.TAG_SPLIT_FINGERPRINT: split_fingerprint(split_path),
        })
        if resume_run is None:
            mlflow.log_params({k: (json.dumps(v) if isinstance(v, dict | list | tuple) else v)
                               for k, v in config.to_dict().items()})
            sources = sources_summary(records, splits)
            mlflow.log_dict({"sources": sources}, "data_sources.json")
            for row in sources:
                tqdm.write(f"data: {row['source']} ({row['photo_kind']}"
                           f"{', training only' if row['training_only'] else ''}): "
                           + ", ".join(f"{count} {split}" for split, count in sorted(row["images"].items())))
            mlflow.log_params({"data_path": ", ".join(str(f) for f in [*folders, *extra_data]),
                               "n_train": len(by_split["train"]), "n_val": len(by_split["val"]),
                               "n_test": len(by_split["test"])})
            if lesion_source:
                mlflow.log_param("lesion_masks_for_evaluation", lesion_source)
            save_config(config, work_dir / "config.yaml")
            mlflow.log_artifact(str(work_dir / "config.yaml"))
            mlflow.log_artifact(str(split_path))
            mlflow.log_dict(tracking.system_info(str(device)), "system_info.json")
        state = state or LoopState()
        state.mlflow_run_id = run.info.run_id

        def on_epoch_end(epoch: int, metrics: dict[str, float]) -> None:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)}, step=epoch)

        budget_s = config.time_budget_min * 60 if config.time_budget_min else None
        settings = LoopSettings(epochs=config.epochs, lr=config.lr, weight_decay=config.weight_decay,
                                schedule=config.schedule, warmup_fraction=config.warmup_fraction,
                                time_budget_s=budget_s, patience=config.patience,
                                channels_last=config.channels_last, metric_name=metric_name,
                                checkpoint_path=checkpoint_path, ema_decay=config.ema_decay,
                                cpu_bf16=config.cpu_bf16)
        model, state = train(model, loader, loss_fn, validate, settings, device, on_epoch_end=on_epoch_end,
                             state=state, optimizer_state=optimizer_state, ema_state=ema_state, best_state=best_state,
                             steps_per_epoch=len(loader), batch_transform=mixer)

        artifacts = work_dir / "artifacts"
        artifacts.mkdir(exist_ok=True)
        if task == "classification":
            contexts = {name: [r.context for r in recs] for name, recs in by_split.items()}
            val_metrics, test_metrics, model_config = _finish_classifier(model, cached, model_config, config, device,
                                                                         artifacts, contexts)
            kinds_by_split = {name: np.array([r.photo_kind for r in recs]) for name, recs in by_split.items()}
            if len(set(kinds_by_split["train"].tolist())) > 1:
                # Phone and dermoscopic photos: the photo-kind head, each kind's temperature and threshold, and the
                # context (with the symptoms) refitted on the served reading (training.photo_kind).
                from training.photo_kind import add_photo_kinds

                model, model_config, kind_finish = add_photo_kinds(
                    model, model_config, cached, kinds_by_split, contexts, device, config.min_triage_sensitivity,
                    config.seed)
                val_metrics["photo_kinds"] = {"kind_accuracy": kind_finish.kind_accuracy,
                                              "val": kind_finish.metrics["val"]}
                if test_metrics:
                    test_metrics["photo_kinds"] = {"test": kind_finish.metrics.get("test", {})}
                tqdm.write("photo kinds: head accuracy " + ", ".join(
                    f"{split} {value:.3f}" for split, value in kind_finish.kind_accuracy.items()) + "; " + "; ".join(
                    f"{kind}: threshold {c.triage_threshold:.3f}, temperature {c.temperature:.2f}"
                    for kind, c in kind_finish.kinds.items()))
        else:
            val_metrics, test_metrics, model_config = _finish_segmenter(model, cached, model_config, device, artifacts)
        model_config = model_config.model_copy(update={
            "data_fingerprint": dataset_fingerprint(records),
            "synthetic": synthetic,
            "extra": {**model_config.extra, "mlflow_run_id": run.info.run_id, "epochs": state.epoch,
                      **({"lesion_masks_for_evaluation": lesion_source} if lesion_source else {}),
                      "best_epoch": state.best_epoch, "split_fingerprint": split_fingerprint(split_path),
                      "data_path": ", ".join(str(f) for f in [*folders, *extra_data]),
                      **({"pretrained": pretrained_source} if pretrained_source else {})},
        })
        bundle_dir = save_bundle(work_dir / "bundle", model.to("cpu").to(memory_format=torch.contiguous_format),
                                 model_config)
        mlflow.log_artifacts(str(bundle_dir), tracking.BUNDLE_ARTIFACT_PATH)
        mlflow.log_artifacts(str(artifacts), "reports")
        summary = {tracking.SELECTION_METRICS[task]: state.best_metric, "epochs_run": state.epoch,
                   "best_epoch": state.best_epoch, "wall_seconds": time.monotonic() - started}
        summary.update(_flat("val", val_metrics))
        summary.update(_flat("test", test_metrics))
        mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, int | float) and np.isfinite(v)})
        mlflow.log_dict({"validation": val_metrics, "test": test_metrics}, "final_metrics.json")
        return TrainResult(run.info.run_id, task, bundle_dir, val_metrics, test_metrics, state.epoch,
                           time.monotonic() - started, synthetic)


def present_balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (a phone-photo set has no df or vasc)."""
    classes = np.unique(y_true)
    return float(np.mean([(y_pred[y_true == c] == c).mean() for c in classes])) if len(classes) else float("nan")


def _lesion_masks(model_config: ModelConfig, segmenter: Path | None,
                  device: torch.device) -> tuple[LesionMasks | None, str | None]:
    """For a ``lesion_crop`` classifier: the masks its validation and test crops come from, and their source."""
    if model_config.resize_policy != "lesion_crop":
        return None, None
    if segmenter is None:
        tqdm.write("note: no segmenter given for the lesion crops; validation and test use the ground-truth masks, "
                   "so their scores are optimistic (drskin train all and drskin evaluate use the segmenter's)")
        return None, "ground truth"
    from skin_models.predict import SegmenterPredictor

    predictor = SegmenterPredictor(segmenter, device=str(device.type))
    return predictor.predict_masks, f"segmenter {segmenter}"


def _flat(prefix: str, metrics: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            flat[f"final_{prefix}_{key}"] = float(value)
    for code, row in metrics.get("per_class", {}).items():
        flat[f"final_{prefix}_recall_{code}"] = float(row["recall"])
    for key, value in metrics.get("photo_only", {}).items():
        flat[f"final_{prefix}_photo_only_{key}"] = float(value)
    return flat


# Context weights tried on validation (0: the photo alone). The kept one has the lowest class-balanced log loss:
# a proper score that varies smoothly with the weight, where balanced accuracy on ~10 images of the rarest classes
# jumps by a point between neighbouring weights.
CONTEXT_WEIGHTS = tuple(round(0.05 * i, 2) for i in range(31))  # 0, 0.05, …, 1.5


def fit_context(train_targets: np.ndarray, contexts: dict[str, list[PatientContext]], val_probs: np.ndarray,
                val_targets: np.ndarray, labels: tuple[str, ...]) -> tuple[ContextModel | None, dict[float, float]]:
    """The naive-Bayes context model (``skin_models.context``) counted on the training split, its weight chosen
    on validation; with the validation balanced log loss of every weight tried. None when the data has no
    context or the photo alone did best."""
    from skin_models.predict import weigh

    fitted = fit_context_model(contexts["train"], train_targets.tolist(), labels)
    if fitted is None or not any(c.given for c in contexts["val"]):
        return None, {}
    scores: dict[float, float] = {}
    for weight in CONTEXT_WEIGHTS:
        candidate = fitted.model_copy(update={"weight": weight})
        scores[weight] = balanced_log_loss(val_targets, weigh(candidate, val_probs, contexts["val"]))
    best = min(CONTEXT_WEIGHTS, key=lambda w: (scores[w], w))
    return (fitted.model_copy(update={"weight": best}) if best > 0 else None), scores


def _photo_only(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = ("balanced_accuracy", "accuracy", "malignant_sensitivity", "malignant_specificity", "malignant_auc")
    return {**{k: metrics[k] for k in keep}, "mel_recall": metrics["per_class"]["mel"]["recall"]}


@dataclass(frozen=True)
class ContextFinish:
    """The end of a classifier's training that concerns the patient's context (``finish_context``)."""

    model: ContextModel | None  # None: the photo alone
    scores: dict[float, float]  # validation balanced log loss by weight tried
    threshold: float  # the triage threshold that holds with and without the context
    probabilities: dict[str, np.ndarray]  # per split, as served with the data's context
    metrics: dict[str, dict[str, Any]]  # per split, with a "photo_only" block when there is a context model
    selected: dict[str, float]  # the validation figures a bundle records (config.metrics, without "val_")


def finish_context(photo: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                   contexts: dict[str, list[PatientContext]] | None, labels: tuple[str, ...],
                   min_triage_sensitivity: float, *, threshold_cap: float | None = None) -> ContextFinish:
    """Fit the context on the training split and its weight on validation (``fit_context``), choose the triage
    threshold as the lower of the photo-alone and the weighed answers' (so it holds whether or not a person gives
    the context; never above ``threshold_cap``), and measure every split of ``photo`` both ways.

    ``photo``: temperature-scaled probabilities from the photo alone for "val" (required) and "test" (optional);
    ``targets`` must also hold "train". Shared by ``drskin train classifier`` and ``drskin train context``."""
    from skin_models.predict import weigh

    model, scores = (None, {}) if contexts is None else fit_context(
        targets["train"], contexts, photo["val"], targets["val"], labels)
    probabilities = {split: weigh(model, probs, contexts[split]) if model is not None and contexts else probs
                     for split, probs in photo.items()}
    threshold = choose_triage_threshold(photo["val"], targets["val"], min_triage_sensitivity)
    if model is not None:
        threshold = min(threshold, choose_triage_threshold(probabilities["val"], targets["val"],
                                                           min_triage_sensitivity))
    if threshold_cap is not None:
        threshold = min(threshold, threshold_cap)
    metrics: dict[str, dict[str, Any]] = {}
    for split, probs in probabilities.items():
        metrics[split] = classification_metrics(targets[split], probs, triage_threshold=threshold)
        if model is not None:
            metrics[split]["photo_only"] = _photo_only(classification_metrics(targets[split], photo[split],
                                                                              triage_threshold=threshold))
    val = metrics["val"]
    selected = {k: float(val[k]) for k in ("balanced_accuracy", "accuracy", "malignant_sensitivity",
                                           "malignant_specificity", "malignant_auc")}
    selected["mel_recall"] = float(val["per_class"]["mel"]["recall"])
    if model is not None:
        selected.update({f"photo_only_{k}": float(v) for k, v in val["photo_only"].items()})
    return ContextFinish(model=model, scores=scores, threshold=threshold, probabilities=probabilities,
                         metrics=metrics, selected=selected)


def _finish_classifier(model: nn.Module, cached: dict[str, CachedArrays], model_config: ModelConfig,
                       config: TrainConfig, device: torch.device, artifacts: Path,
                       contexts: dict[str, list[PatientContext]] | None = None,
                       ) -> tuple[dict[str, Any], dict[str, Any], ModelConfig]:
    val_logits = predict_arrays(model, cached["val"], model_config, device, use_tta=True)
    temperature = fit_temperature(val_logits, cached["val"].targets)
    photo = {"val": softmax(val_logits, temperature=temperature)}
    if "test" in cached:
        photo["test"] = softmax(predict_arrays(model, cached["test"], model_config, device, use_tta=True),
                                temperature=temperature)
    finish = finish_context(photo, {split: arrays.targets for split, arrays in cached.items()}, contexts,
                            model_config.labels, config.min_triage_sensitivity)
    if finish.scores:
        kept = f"kept {finish.model.weight:g}" if finish.model else "kept none (the photo alone)"
        tqdm.write("patient context, validation balanced log loss by weight: "
                   + ", ".join(f"{w:g} → {v:.4f}" for w, v in list(finish.scores.items())[::4]) + f"; {kept}")
    val_metrics = finish.metrics["val"]
    val_metrics["temperature"] = temperature
    if finish.model is not None:
        val_metrics["context_log_loss"] = {f"{w:g}": v for w, v in finish.scores.items()}
    save_confusion_matrix(val_metrics["confusion_matrix"], artifacts / "confusion_matrix_val.png",
                          title="Validation confusion matrix")
    save_per_class_csv(val_metrics, artifacts / "per_class_val.csv")
    save_roc_curves(cached["val"].targets, finish.probabilities["val"], artifacts / "roc_val.png")
    test_metrics: dict[str, Any] = finish.metrics.get("test", {})
    if test_metrics:
        save_confusion_matrix(test_metrics["confusion_matrix"], artifacts / "confusion_matrix_test.png",
                              title="Test confusion matrix")
        save_per_class_csv(test_metrics, artifacts / "per_class_test.csv")
        save_roc_curves(cached["test"].targets, finish.probabilities["test"], artifacts / "roc_test.png")
    model_config = model_config.model_copy(update={
        "context": finish.model, "temperature": temperature, "triage_threshold": finish.threshold,
        "metrics": {f"val_{k}": v for k, v in finish.selected.items()}})
    return val_metrics, test_metrics, model_config


def _finish_segmenter(model: nn.Module, cached: dict[str, CachedArrays], model_config: ModelConfig,
                      device: torch.device, artifacts: Path) -> tuple[dict[str, Any], dict[str, Any], ModelConfig]:
    from scipy.special import expit

    val = cached["val"]
    assert val.masks is not None
    val_maps = expit(predict_arrays(model, val, model_config, device, use_tta=True)[:, 0])
    threshold = _best_mask_threshold(val_maps, val.masks)
    val_metrics: dict[str, Any] = segmentation_metrics(list(val_maps > threshold), list(val.masks))
    val_metrics["mask_threshold"] = threshold
    save_mask_grid(val.images, val.masks, val_maps > threshold, artifacts / "masks_val.png")
    test_metrics: dict[str, Any] = {}
    if "test" in cached and cached["test"].masks is not None:
        test_maps = expit(predict_arrays(model, cached["test"], model_config, device, use_tta=True)[:, 0])
        test_metrics = segmentation_metrics(list(test_maps > threshold), list(cached["test"].masks))
        save_mask_grid(cached["test"].images, cached["test"].masks, test_maps > threshold,
                       artifacts / "masks_test.png")
    model_config = model_config.model_copy(update={
        "mask_threshold": threshold,
        "metrics": {f"val_{k}": float(val_metrics[k]) for k in ("dice", "iou", "thresholded_jaccard")},
    })
    return val_metrics, test_metrics, model_config
