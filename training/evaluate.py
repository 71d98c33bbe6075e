"""Evaluating the stored (BentoML) models on a data folder in the HAM10000 layout, as the service would run them.

Classification metrics cover every selected image; segmentation metrics only the images that have a mask, with
predicted and true masks compared at the photo's own size (the true mask resized nearest-neighbour to the photo).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skin_models.labels import get_label
from training.data import Record, dataset_fingerprint, load_folders, load_image, load_mask
from training.metrics import bootstrap_intervals, classification_metrics, segmentation_metrics
from training.registry import bentoml_model_path

_SEGMENTATION_KEYS = ("dice", "iou", "thresholded_jaccard")


class EvaluationError(ValueError):
    """Arguments that select nothing to evaluate; the message says what to change."""


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf as ``None`` and numpy scalars/arrays as plain Python, so ``json.dumps`` is strict."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def select_records(data: Path | Sequence[Path], split_file: Path | None = None,
                   split: str | None = None) -> list[Record]:
    """The records of ``data`` (a folder, or several), restricted to ``split`` of ``split_file`` when both are
    given."""
    records = load_folders(data)
    if (split_file is None) != (split is None):
        raise EvaluationError("--split-file and --split go together (e.g. --split-file splits.csv --split test)")
    if split_file is not None:
        from training.splits import load_splits

        assignment = load_splits(split_file)
        records = [r for r in records if assignment.get(r.image_id) == split]
        if not records:
            raise EvaluationError(f"no image of {data} is in split {split!r} of {split_file}; check that the split "
                                  "file was made for this data folder")
    if not records:
        raise EvaluationError(f"{data} holds no images to evaluate")
    return records


def _batches(items: Sequence[Record], size: int) -> Iterator[Sequence[Record]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _model_info(tag: str, config: Any, backend: str) -> dict[str, Any]:
    import bentoml

    model = bentoml.models.get(tag)
    meta = model.info.metadata
    return {"tag": str(model.tag), "requested": tag, "synthetic": bool(config.synthetic), "arch": config.arch,
            "encoder": config.encoder, "backend": backend, "tta": config.tta, "resize_policy": config.resize_policy,
            "mlflow_version": meta.get("mlflow_version"),
            "mlflow_run_id": meta.get("mlflow_run_id"), "data_fingerprint": config.data_fingerprint}


def evaluate(
    data: Path | Sequence[Path],
    classifier: str = "skin-classifier:latest",
    segmenter: str | None = "skin-segmenter:latest",
    *,
    batch_size: int = 32,
    device: str = "auto",
    split_file: Path | None = None,
    split: str | None = None,
    progress: bool = True,
    tta: dict[str, str | None] | None = None,
    use_context: bool = True,
) -> dict[str, Any]:
    """Run the stored models on every (selected) image of ``data``; return JSON-able metrics.

    Keys: n_images, balanced_accuracy, intervals (bootstrap 95 % over lesions), context, photo_only, accuracy,
    per_class, malignant_sensitivity / malignant_specificity (at the classifier's triage threshold), malignant_auc,
    triage_threshold, confusion_matrix, labels, n_masks, dice, iou, thresholded_jaccard, models, data, warnings.
    Metrics undefined on this data (e.g. recall of an absent class) are ``None``. ``tta`` ({"classifier": mode,
    "segmenter": mode}) overrides the bundles' test-time views, to measure what they are worth; the result's
    ``models`` says which views ran. When the classifier has a context model and the data records age, sex or
    body site, the main figures weigh them (as the service does when a person gives them) and ``photo_only``
    holds the same model's figures from the photos alone; ``use_context=False`` ignores the records' context.
    """
    from tqdm.auto import tqdm

    from skin_models.pipeline import Diagnoser
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor
    from skin_models.tta import n_views
    from skin_models.verdict import LesionLikeness

    if batch_size < 1:
        raise EvaluationError(f"batch size must be at least 1, got {batch_size}")
    folders = [Path(data).resolve()] if isinstance(data, str | Path) else [Path(f).resolve() for f in data]
    records = select_records(folders, split_file, split)
    clf = ClassifierPredictor(bentoml_model_path(classifier), device=device)
    seg = SegmenterPredictor(bentoml_model_path(segmenter), device=device) if segmenter else None
    for role, predictor in (("classifier", clf), ("segmenter", seg)):
        mode = (tta or {}).get(role)
        if predictor is not None and mode is not None:
            n_views(mode)  # an unknown mode is an error that lists the valid ones
            predictor.config = predictor.config.model_copy(update={"tta": mode})
    if clf.needs_lesion_mask and seg is None:
        raise EvaluationError(f"the classifier {classifier} looks at a crop around the lesion: give the segmenter "
                              "that finds it (--segmenter TAG)")
    label_index = {code: i for i, code in enumerate(clf.config.labels)}
    unknown = sorted({r.label for r in records if get_label(r.label).code not in label_index})
    if unknown:
        raise EvaluationError(f"the classifier {classifier} has no output for classes {unknown} in {data}")

    y_true = np.array([label_index[get_label(r.label).code] for r in records], dtype=int)
    photo_rows: list[np.ndarray] = []
    weighed_rows: list[np.ndarray] = []
    served: list[dict[str, Any]] = []  # per photo: its verdict, named kind and the triage threshold it got
    verdicts: Counter[str] = Counter()
    # The service's own chain (skin_models.pipeline): the same scaling, masks, crops, verdict and context.
    diagnoser = Diagnoser(clf, seg, LesionLikeness.load())
    # Segmentation metrics are means over images: accumulate per batch (weighted by masks) instead of keeping
    # every full-size mask in memory.
    seg_sums = dict.fromkeys(_SEGMENTATION_KEYS, 0.0)
    n_masks = 0
    with tqdm(total=len(records), desc="evaluate", unit="img", disable=not progress) as bar:
        for batch in _batches(records, batch_size):
            diagnoses = diagnoser.diagnose([load_image(r) for r in batch],
                                           [r.context for r in batch] if use_context else None)
            photo_rows += [d.photo_probabilities for d in diagnoses]
            weighed_rows += [d.probabilities for d in diagnoses]
            verdicts.update(str(d.verdict.verdict) for d in diagnoses)
            served += [{"verdict": str(d.verdict.verdict), "kind": d.photo_kind.kind if d.photo_kind else None,
                        "threshold": d.triage_threshold} for d in diagnoses]
            scored = [(r, d.mask) for r, d in zip(batch, diagnoses, strict=True)
                      if r.mask_path is not None and d.mask is not None]
            if scored:
                true = [load_mask(r, size=(mask.shape[1], mask.shape[0])) for r, mask in scored]
                batch_metrics = segmentation_metrics([mask for _, mask in scored], true)
                for key in _SEGMENTATION_KEYS:
                    seg_sums[key] += batch_metrics[key] * len(scored)
                n_masks += len(scored)
            bar.update(len(batch))

    photo_only = np.stack(photo_rows)
    weighed = np.stack(weighed_rows)
    result = classification_metrics(y_true, weighed, clf.config.labels, triage_threshold=clf.config.triage_threshold)
    # How many of these photos the service would refuse to judge (a real lesion photo refused is a false refusal).
    result["verdicts"] = {name: verdicts.get(name, 0) for name in ("ok", "retake", "not_a_lesion")}
    result["refused_fraction"] = 1.0 - verdicts.get("ok", 0) / len(records)
    # 95 % intervals, resampling whole lesions: the rare classes have ~10 test images, so a point estimate alone
    # says little about whether one model beats another.
    groups = [r.lesion_id for r in records]
    result["intervals"] = bootstrap_intervals(y_true, weighed, clf.config.labels, clf.config.triage_threshold,
                                              groups=groups)
    n_context = sum(bool(r.context.given) for r in records)
    result["context"] = {"model": clf.config.context is not None, "used": bool(
        use_context and clf.config.context is not None and n_context), "images_with_context": n_context,
        "weight": clf.config.context.weight if clf.config.context else None}
    if result["context"]["used"]:
        # What a person who gives no age, sex or body site gets from the same model.
        alone = classification_metrics(y_true, photo_only, clf.config.labels,
                                       triage_threshold=clf.config.triage_threshold)
        result["photo_only"] = {key: alone[key] for key in ("balanced_accuracy", "accuracy", "malignant_sensitivity",
                                                            "malignant_specificity", "malignant_auc")}
        result["photo_only"]["mel_recall"] = alone["per_class"]["mel"]["recall"]
        result["photo_only"]["intervals"] = bootstrap_intervals(y_true, photo_only, clf.config.labels,
                                                                clf.config.triage_threshold, groups=groups)
    result["labels"] = list(clf.config.labels)
    if len({r.photo_kind for r in records}) > 1 or clf.config.photo_kind_head:
        result["by_kind"] = by_kind(records, y_true, weighed, photo_only, served, clf.config.labels,
                                    clf.config.triage_threshold, with_context=result["context"]["used"])
    result["n_masks"] = n_masks
    for key in _SEGMENTATION_KEYS:
        result[key] = seg_sums[key] / n_masks if n_masks else float("nan")

    fingerprint = dataset_fingerprint(records)
    warnings: list[str] = []
    models = {"classifier": _model_info(classifier, clf.config, clf.backend),
              "segmenter": _model_info(segmenter, seg.config, seg.backend) if seg is not None and segmenter else None}
    for role, info in models.items():
        if info is None:
            continue
        if info["synthetic"]:
            warnings.append(f"the {role} {info['tag']} was trained on SYNTHETIC data")
        if split is None and info["data_fingerprint"] == fingerprint:
            warnings.append(f"the {role} was trained on this very data folder; evaluate on a held-out split "
                            "(--split-file … --split test) for an honest score")
    if seg is not None and n_masks == 0:
        warnings.append(f"no image in {', '.join(str(f) for f in folders)} has a mask; segmentation metrics are "
                        "empty")
    result["models"] = models
    result["data"] = {"path": ", ".join(str(f) for f in folders), "fingerprint": fingerprint,
                      "split_file": str(split_file) if split_file else None, "split": split}
    result["warnings"] = warnings
    return json_safe(result)


#: Phone-photo figures are given per Fitzpatrick skin type where a type has at least this many photos.
MIN_PHOTOS_PER_SKIN_TYPE = 10


def _served_figures(records: Sequence[Record], y_true: np.ndarray, probs: np.ndarray, flagged: np.ndarray,
                    labels: Sequence[str], threshold: float, refused: np.ndarray) -> dict[str, Any]:
    """One group's figures as served: balanced accuracy over the classes present, melanoma recall, AUC, and the
    malignant sensitivity/specificity of the flags the service raised (each photo at its own kind's threshold);
    bootstrap intervals over patients (or lesions) at the group's threshold; refusals."""
    from skin_models.labels import concerning_indices

    found = classification_metrics(y_true, probs, labels)
    positives = np.isin(y_true, concerning_indices(tuple(labels)))
    groups = [r.patient_id or r.lesion_id for r in records]
    return {
        "images": len(records), "patients_or_lesions": len(set(groups)),
        "balanced_accuracy": found["balanced_accuracy"], "mel_recall": found["per_class"]["mel"]["recall"],
        "per_class_recall": {code: row["recall"] for code, row in found["per_class"].items() if row["support"]},
        "malignant_auc": found["malignant_auc"],
        "malignant_sensitivity": float(flagged[positives].mean()) if positives.any() else float("nan"),
        "malignant_specificity": float((~flagged[~positives]).mean()) if (~positives).any() else float("nan"),
        "triage_threshold": threshold,
        "intervals": bootstrap_intervals(y_true, probs, labels, threshold, groups=groups),
        "refused": float(refused.mean()) if len(refused) else float("nan"),
    }


def by_kind(records: Sequence[Record], y_true: np.ndarray, weighed: np.ndarray, photo_only: np.ndarray,
            served: Sequence[dict[str, Any]], labels: Sequence[str], default_threshold: float,
            *, with_context: bool) -> dict[str, Any]:
    """Dermoscopic and phone photos side by side (``drskin evaluate`` on several folders), the phone photos per
    Fitzpatrick skin type too, the photo-kind head's accuracy, and refusals per kind and class."""
    from skin_models.labels import concerning_indices

    kinds = np.array([r.photo_kind for r in records])
    thresholds = np.array([s["threshold"] if s["threshold"] is not None else default_threshold for s in served])
    refused = np.array([s["verdict"] != "ok" for s in served])
    named = [s["kind"] for s in served]
    scores = weighed[:, concerning_indices(tuple(labels))].sum(axis=1)
    alone_scores = photo_only[:, concerning_indices(tuple(labels))].sum(axis=1)
    result: dict[str, Any] = {"photo_kind_accuracy": {}, "kinds": {}, "phone_by_skin_type": {},
                              "refused_by_class": {}}
    for kind in sorted(set(kinds.tolist())):
        chosen = [int(i) for i in np.flatnonzero(kinds == kind)]
        threshold = float(np.median(thresholds[chosen]))
        group = [records[i] for i in chosen]
        figures = _served_figures(group, y_true[chosen], weighed[chosen], scores[chosen] >= thresholds[chosen],
                                  labels, threshold, refused[chosen])
        if with_context:
            figures["photo_only"] = _served_figures(group, y_true[chosen], photo_only[chosen],
                                                    alone_scores[chosen] >= thresholds[chosen], labels, threshold,
                                                    refused[chosen])
        result["kinds"][kind] = figures
        if any(n is not None for n in named):
            result["photo_kind_accuracy"][kind] = float(np.mean([named[i] == kind for i in chosen]))
        refused_by_class: dict[str, dict[str, int]] = {}
        for i in chosen:
            row = refused_by_class.setdefault(records[i].label, {"images": 0, "refused": 0})
            row["images"] += 1
            row["refused"] += int(refused[i])
        result["refused_by_class"][kind] = refused_by_class
    phone = [i for i in range(len(records)) if kinds[i] == "phone" and records[i].fitzpatrick is not None]
    for skin_type in sorted({records[i].fitzpatrick for i in phone}):  # type: ignore[type-var]
        chosen = [i for i in phone if records[i].fitzpatrick == skin_type]
        if len(chosen) >= MIN_PHOTOS_PER_SKIN_TYPE:
            result["phone_by_skin_type"][str(skin_type)] = _served_figures(
                [records[i] for i in chosen], y_true[chosen], weighed[chosen], scores[chosen] >= thresholds[chosen],
                labels, float(np.median(thresholds[chosen])), refused[chosen])
    return result


# ISIC 2018 Task 3's submission columns, in its order, and our class code for each.
ISIC_TASK3_COLUMNS = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


def list_images(folder: Path) -> list[Path]:
    """The photos under ``folder`` (any depth), sorted; lesion masks (``*_segmentation.*``) are not photos.
    Two photos with one name (in different subfolders) would be one row of a submission: that is an error."""
    if not folder.is_dir():
        raise EvaluationError(f"{folder} is not a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not p.stem.endswith("_segmentation"))
    if not files:
        raise EvaluationError(f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise EvaluationError(f"two images are named {path.stem!r}: {seen[path.stem]} and {path}; a submission "
                                  "has one row per image name")
        seen[path.stem] = path
    return files


def predict_folder(folder: Path, csv_path: Path, classifier: str = "skin-classifier:latest",
                   segmenter: str = "skin-segmenter:latest", *, batch_size: int = 32, device: str = "auto",
                   progress: bool = True) -> dict[str, Any]:
    """Class probabilities of the stored classifier for every image under ``folder``, written to ``csv_path`` in
    the ISIC 2018 Task 3 submission format (``image,MEL,NV,BCC,AKIEC,BKL,DF,VASC``; each row sums to 1).

    Unreadable files are skipped and listed in the result (``skipped``: name → reason); the rest are written.
    """
    import csv

    from tqdm.auto import tqdm

    from skin_models.imaging import ImageError, decode_image
    from skin_models.pipeline import Diagnoser
    from skin_models.predict import ClassifierPredictor, SegmenterPredictor

    if batch_size < 1:
        raise EvaluationError(f"batch size must be at least 1, got {batch_size}")
    files = list_images(Path(folder))
    clf = ClassifierPredictor(bentoml_model_path(classifier), device=device)
    column_index = [list(clf.config.labels).index(get_label(code).code) for code in ISIC_TASK3_COLUMNS]
    seg = SegmenterPredictor(bentoml_model_path(segmenter), device=device) if clf.needs_lesion_mask else None
    diagnoser = Diagnoser(clf, seg)  # the service's chain: the same scaling and crops
    skipped: dict[str, str] = {}
    written = 0
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as handle, \
            tqdm(total=len(files), desc="predict", unit="img", disable=not progress) as bar:
        writer = csv.writer(handle)
        writer.writerow(["image", *ISIC_TASK3_COLUMNS])
        for start in range(0, len(files), batch_size):
            names, images = [], []
            for path in files[start : start + batch_size]:
                try:
                    images.append(decode_image(path.read_bytes(), filename=path.name))
                    names.append(path.stem)
                except (ImageError, OSError) as exc:
                    skipped[str(path.relative_to(folder))] = str(exc)
            if images:
                probs = np.stack([d.photo_probabilities for d in diagnoser.diagnose(images)])[:, column_index]
                probs = probs / probs.sum(axis=1, keepdims=True)
                writer.writerows([name, *(f"{p:.6f}" for p in row)] for name, row in zip(names, probs, strict=True))
                written += len(images)
            bar.update(len(files[start : start + batch_size]))
    return {"csv": str(csv_path), "images": written, "skipped": skipped,
            "classifier": _model_info(classifier, clf.config, clf.backend)}
