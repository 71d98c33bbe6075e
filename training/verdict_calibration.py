"""``drskin calibrate-verdict``: fit the not-a-lesion check on real lesion photos and measure the verdict.

Fit: a Gaussian (Ledoit-Wolf shrunk covariance) over ``photo_evidence`` of the training split's photos, one per
kind of photo when the data has several (dermoscopic, phone close-ups: a phone photo shows more skin, background and
light than a dermoscope's field: one Gaussian fitted on dermoscopy called 23 % of real phone photos of lesions "not
a lesion"). Threshold: per kind, the ``quantile`` of its validation photos' distances, so that share of real
validation photos is judged not a lesion at most. Then, on validation and test: the share of real photos refused
(any verdict but ``ok``, with the served segmenter's masks for the lesion findings), per reason, kind and class;
and against generated non-lesion photos (``training.ood``): AUROC of the distance and the share refused.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from skin_models.quality import assess_quality
from skin_models.verdict import LIKENESS_FILE, LesionLikeness, LikenessComponent, decide, envelope, photo_evidence
from training.data import Record, load_image
from training.evaluate import select_records
from training.metrics import binary_auc


def _evidence(records: list[Record], desc: str) -> np.ndarray:
    from tqdm.auto import tqdm

    return np.stack([photo_evidence(np.asarray(load_image(r))) for r in tqdm(records, desc=desc, unit="img")])


def _refusals(records: list[Record], likeness: LesionLikeness, segmenter: Any, desc: str) -> dict[str, Any]:
    """Verdicts of real photos, as the service would give them (quality with the segmenter's mask), by the
    photos' kind and class as well (a refused cancer costs most)."""
    from tqdm.auto import tqdm

    verdicts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    refused_by: dict[str, Counter[str]] = {"kind": Counter(), "class": Counter()}
    seen_by: dict[str, Counter[str]] = {"kind": Counter(), "class": Counter()}
    for start in tqdm(range(0, len(records), 32), desc=desc, unit="batch"):
        batch = records[start : start + 32]
        images = [load_image(r) for r in batch]
        masks = segmenter.predict_masks(images) if segmenter is not None else [None] * len(images)
        for record, image, mask in zip(batch, images, masks, strict=True):
            pixels = np.asarray(image)
            codes = [w.code for w in assess_quality(pixels, mask)]
            result = decide(codes, likeness.distance(pixels), likeness)
            verdicts[str(result.verdict)] += 1
            reasons.update(result.reasons)
            for by, key in (("kind", record.photo_kind), ("class", record.label)):
                seen_by[by][key] += 1
                refused_by[by][key] += result.verdict != "ok"
    total = len(records)
    return {"images": total, "refused": 1.0 - verdicts["ok"] / total if total else float("nan"),
            "verdicts": dict(verdicts), "reasons": dict(reasons),
            **{f"refused_by_{by}": {key: {"refused": refused_by[by][key], "images": seen}
                                    for key, seen in sorted(seen_by[by].items())} for by in ("kind", "class")}}


def _component(kind: str, train: list[Record], val: list[Record], quantile: float) -> LikenessComponent:
    from sklearn.covariance import LedoitWolf

    evidence = _evidence(train, f"evidence ({kind}, train)")
    fitted = LedoitWolf().fit(evidence)
    distances = LesionLikeness(fitted.location_, fitted.precision_, 1.0, {}).distances(
        _evidence(val, f"evidence ({kind}, val)"))
    low, high = envelope(evidence)
    return LikenessComponent(kind, fitted.location_, fitted.precision_, float(np.quantile(distances, quantile)),
                             low, high)


#: The phone photos' threshold quantile: their Gaussian is broader (skin, background and light vary far more than
#: in a dermoscope's field), and at 0.997 of their ~100 validation photos it took 46 % of generated text renders
#: and 22 % of natural photos for lesions; at 0.98 it refuses 2 % of the phone validation photos by likeness and
#: 92 % of the text, 90 % of the natural photos (docs/results.md; chosen on validation and generated photos).
PHONE_QUANTILE = 0.98


def calibrate(data: Path | list[Path], split_file: Path, *, segmenter: str | None = "skin-segmenter:latest",
              quantile: float = 0.997, phone_quantile: float = PHONE_QUANTILE, n_ood: int = 600,
              out: Path = LIKENESS_FILE) -> dict[str, Any]:
    from skin_models.predict import SegmenterPredictor
    from training import ood
    from training.registry import bentoml_model_path

    folders = [data] if isinstance(data, Path) else list(data)
    train = select_records(folders, split_file, "train")
    val = select_records(folders, split_file, "val")
    test = select_records(folders, split_file, "test")
    photo_kinds = sorted({r.photo_kind for r in train}, key=lambda k: (k != "dermoscopic", k))
    components = [_component(kind, [r for r in train if r.photo_kind == kind],
                             [r for r in val if r.photo_kind == kind], phone_quantile if kind == "phone" else quantile)
                  for kind in photo_kinds]
    first = components[0]
    probe = LesionLikeness(first.mean, first.precision, first.threshold, {}, tuple(components[1:]), first.kind,
                           first.low, first.high)
    val_distances = probe.distances(_evidence(val, "evidence (val, all)"))
    kinds, ood_images = zip(*ood.generate(n_ood), strict=True)
    ood_distances = probe.distances(np.stack([photo_evidence(image) for image in ood_images]))
    names = ", ".join(f.name for f in folders)
    likeness = LesionLikeness(first.mean, first.precision, first.threshold, {
        "fitted_on": f"{len(train)} training photos of {names} (split {split_file.name}); one Gaussian per kind: "
                     + ", ".join(f"{c.kind} ({sum(r.photo_kind == c.kind for r in train)})" for c in components),
        "threshold": f"per kind, a quantile of its validation photos' distances ({len(val)} in all): {quantile:.3f} "
                     f"(dermoscopic), {phone_quantile:.3f} (phone)",
        "made": datetime.now(UTC).isoformat(timespec="seconds"), "command": "drskin calibrate-verdict"},
        tuple(components[1:]), first.kind, first.low, first.high)
    threshold = likeness.threshold
    seg = None
    if segmenter:
        bundle = Path(segmenter) if Path(segmenter).is_dir() else bentoml_model_path(segmenter)
        seg = SegmenterPredictor(bundle, device="cpu")
    ood_refused: Counter[str] = Counter()
    for kind, image in zip(kinds, ood_images, strict=True):
        mask = seg.predict_masks([Image.fromarray(image)])[0] if seg is not None else None
        codes = [w.code for w in assess_quality(image, mask)]
        ood_refused[kind] += decide(codes, likeness.distance(image), likeness).verdict != "ok"
    per_kind: Counter[str] = Counter(kinds)
    labels = np.r_[np.zeros(len(val_distances)), np.ones(len(ood_distances))].astype(bool)
    report: dict[str, Any] = {
        "threshold": threshold,
        "auroc_val_vs_generated": binary_auc(np.r_[val_distances, ood_distances], labels),
        "generated_refused": {k: ood_refused[k] / per_kind[k] for k in sorted(per_kind)},
        "generated_refused_all": sum(ood_refused.values()) / len(kinds),
        "val": _refusals(val, likeness, seg, "verdicts (val)"),
        "test": _refusals(test, likeness, seg, "verdicts (test)"),
    }
    likeness = LesionLikeness(likeness.mean, likeness.precision, threshold, {**likeness.provenance, "measured": {
        k: report[k] for k in ("auroc_val_vs_generated", "generated_refused_all")} | {
        "val_refused": report["val"]["refused"], "test_refused": report["test"]["refused"]}}, likeness.others,
        likeness.kind, likeness.low, likeness.high)
    out.write_text(likeness.to_json(), encoding="utf-8")
    report["written"] = str(out)
    return report
