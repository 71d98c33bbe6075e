"""Phone photos beside dermoscopic ones: PAD-UFES-20 read in both layouts, kind-wise splits by patient, HAM10000's
known duplicates kept together, kind-balanced sampling, and a tiny run that ends with the photo-kind head and each
kind's calibration, evaluated kind by kind."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_models.context import PatientContext
from skin_models.labels import ISIC_COLUMNS
from training.data import Record, check_dataset, load_folders, load_records
from training.splits import known_duplicates, make_kind_splits, make_splits
from training.torchdata import kind_sampling_weights

PAD_HEADER = ("patient_id,lesion_id,smoke,drink,background_father,background_mother,age,pesticide,gender,"
              "skin_cancer_history,cancer_history,has_piped_water,has_sewage_system,fitspatrick,region,diameter_1,"
              "diameter_2,diagnostic,itch,grew,hurt,changed,bleed,elevation,img_id,biopsed")
# (patient, lesion, diagnostic, region, fitzpatrick, itch, bleed, changed, photo number)
PAD_ROWS = (
    ("PAT_1", 10, "BCC", "NOSE", "2.0", "True", "True", "UNK", 1),
    ("PAT_1", 10, "BCC", "NOSE", "2.0", "True", "True", "UNK", 2),
    ("PAT_1", 11, "SCC", "FOREARM", "2.0", "False", "False", "False", 3),
    ("PAT_2", 20, "NEV", "BACK", "", "False", "False", "True", 4),
    ("PAT_3", 30, "ACK", "FACE", "3.0", "UNK", "False", "False", 5),
    ("PAT_4", 40, "MEL", "CHEST", "1.0", "False", "True", "True", 6),
    ("PAT_5", 50, "SEK", "ARM", "", "False", "False", "False", 7),
)


def _photo(path: Path, seed: int, size: tuple[int, int] = (48, 48)) -> None:
    rng = np.random.default_rng(seed)
    pixels = np.full((size[1], size[0], 3), (200, 150, 130), np.uint8) + rng.integers(0, 30, (size[1], size[0], 3),
                                                                                        dtype=np.uint8)
    pixels[size[1] // 3 : 2 * size[1] // 3, size[0] // 3 : 2 * size[0] // 3] = (70, 40, 30)
    Image.fromarray(pixels).save(path)


def build_pad_official(root: Path, rows: tuple[tuple, ...] = PAD_ROWS) -> Path:
    """PAD-UFES-20 as Mendeley Data ships it: metadata.csv with img_id and diagnostic, PNGs in imgs_part_1/."""
    (root / "imgs_part_1").mkdir(parents=True)
    lines = [PAD_HEADER]
    for patient, lesion, dx, region, skin, itch, bleed, changed, number in rows:
        image = f"{patient}_{lesion}_{number}.png"
        lines.append(f"{patient},{lesion},False,False,,,55,False,FEMALE,False,False,True,True,{skin},{region},5.0,4.0,"
                     f"{dx},{itch},False,False,{changed},{bleed},True,{image},True")
        _photo(root / "imgs_part_1" / image, number)
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_pad_ufes_20_as_downloaded_reads_as_phone_photos_with_the_patients_account(tmp_path: Path) -> None:
    root = build_pad_official(tmp_path / "pad")
    records = {r.image_id: r for r in load_records(root)}
    assert len(records) == 7 and {r.photo_kind for r in records.values()} == {"phone"}
    first = records["PAT_1_10_1"]
    assert (first.label, first.lesion_id, first.patient_id, first.fitzpatrick) == ("bcc", "PAD_PAT_1_10", "PAT_1", 2)
    assert first.context == PatientContext(age=55, sex="female", site="face", itched=True, bled=True, grew=False,
                                           hurt=False, raised=True)  # changed "UNK": not said
    assert records["PAT_1_11_3"].label == "akiec"  # SCC has no HAM10000 class: akiec, the same malignant group
    assert records["PAT_1_11_3"].context.site == "upper extremity"
    assert records["PAT_2_20_4"].fitzpatrick is None and records["PAT_2_20_4"].context.changed is True
    report = check_dataset(root, progress=False)
    assert report.ok and report.layout.startswith("PAD-UFES-20") and report.photo_kind == "phone"
    assert report.label_mapping["SCC"] == "akiec" and report.n_patients == 5 and report.n_lesions == 6
    from typer.testing import CliRunner

    from training.cli import app

    printed = " ".join(CliRunner().invoke(app, ["data", "check", str(root), "--no-progress"]).output.split())
    assert "layout: PAD-UFES-20" in printed and "photo kind: phone photos" in printed
    assert "SCC→akiec" in printed and "patients: 5" in printed


def test_a_ham_style_copy_of_pad_is_phone_photos_and_splits_keep_patients_together(tmp_path: Path) -> None:
    official = load_records(build_pad_official(tmp_path / "official"))
    copy = tmp_path / "copy"
    (copy / "images").mkdir(parents=True)
    with (copy / "GroundTruth.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", *ISIC_COLUMNS])
        for r in official:
            writer.writerow([r.image_id, *("1.0" if c.lower() == r.label else "0.0" for c in ISIC_COLUMNS)])
            shutil.copy(r.image_path, copy / "images" / f"{r.image_id}.png")
    with (copy / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "lesion_id", "dx", "patient_id", "fitzpatrick", "bleed"])
        for r in official:
            writer.writerow([r.image_id, r.lesion_id, r.label, r.patient_id, r.fitzpatrick or "", r.context.bled])
    assert {r.photo_kind for r in load_records(copy)} == {"dermoscopic"}  # nothing says otherwise yet
    (copy / "pad_metadata.csv").write_text("img_id\n", encoding="utf-8")
    records = load_records(copy)
    assert {r.photo_kind for r in records} == {"phone"}
    assert [r.patient_id for r in records] == [r.patient_id for r in official]
    splits = make_kind_splits(records, ratios=(0.6, 0.2, 0.2))
    by_patient: dict[str, set[str]] = {}
    for r in records:
        by_patient.setdefault(str(r.patient_id), set()).add(splits[r.image_id])
    assert all(len(found) == 1 for found in by_patient.values())  # a patient's photos never straddle splits


def test_dermoscopic_photos_split_as_they_would_alone_and_known_duplicates_stay_together(synth_dir: Path) -> None:
    derm = load_records(synth_dir)
    phones = [Record(f"PHONE_{i}", "bcc", f"L{i}", Path("x.jpg"), None, photo_kind="phone", patient_id=f"P{i // 2}")
              for i in range(20)]
    mixed = make_kind_splits([*derm, *phones])
    assert {k: v for k, v in mixed.items() if not k.startswith("PHONE")} == make_splits(derm)
    counts = Counter(mixed[p.image_id] for p in phones)
    assert counts["val"] >= 2 and counts["test"] >= 2  # the phone ratios (60/20/20), by patient
    first, second = known_duplicates()[0]
    assert len(known_duplicates()) == 18
    pair = [Record(first, "nv", "HAM_A", Path("a.jpg"), None), Record(second, "nv", "HAM_B", Path("b.jpg"), None)]
    others = [Record(f"ISIC_9{i:06d}", "nv", f"HAM_{i}", Path("c.jpg"), None) for i in range(60)]
    for seed in range(8):
        split = make_splits([*pair, *others], seed=seed)
        assert split[first] == split[second]


def test_each_kind_gets_its_share_of_the_batches_and_classes_balance_within_it() -> None:
    targets = np.array([0] * 80 + [1] * 20 + [0] * 5 + [2] * 5)
    kinds = np.array(["dermoscopic"] * 100 + ["phone"] * 10)
    weights = kind_sampling_weights(targets, kinds, power=1.0, n_classes=7, shares={"phone": 0.3})
    assert weights[kinds == "phone"].sum() == pytest.approx(0.3 * weights.sum())
    derm = weights[kinds == "dermoscopic"]
    assert derm[:80].sum() == pytest.approx(derm[80:].sum())  # power 1: the two classes drawn alike


def test_extra_folders_leave_the_main_kinds_their_draws_and_a_folder_may_have_its_own_share() -> None:
    from training.torchdata import sampling_groups

    def record(source: str, kind: str = "dermoscopic", extra: bool = False) -> Record:
        return Record(image_id=f"{source}-{kind}", label="nv", lesion_id=None, image_path=Path("x.jpg"),
                      mask_path=None, source=source, photo_kind=kind, training_only=extra)

    records = [record("ham"), record("pad", "phone"), record("isic2017", extra=True), record("bcn", extra=True)]
    groups, shares, extra_total = sampling_groups(records, phone_share=0.3, extra_share=0.25,
                                                  extra_folder_shares={"bcn": 0.15})
    assert groups.tolist() == ["dermoscopic", "phone", "extra", "extra:bcn"]
    assert extra_total == pytest.approx(0.4) and shares["extra"] == 0.25 and shares["extra:bcn"] == 0.15
    # the main kinds keep their proportion: per main photo drawn, as many phone photos as without extras
    assert shares["phone"] / (1 - extra_total) == pytest.approx(0.3)
    weights = kind_sampling_weights(np.zeros(4, dtype=int), groups, 0.75, 7, shares)
    assert weights[0] / weights.sum() == pytest.approx(0.7 * 0.6)  # dermoscopic: what is left
    alone, alone_shares, none = sampling_groups(records[:2], 0.3, 0.25, {"bcn": 0.15})
    assert none == 0.0 and alone_shares == {"phone": 0.3} and alone.tolist() == ["dermoscopic", "phone"]


@pytest.mark.slow
def test_a_run_on_both_kinds_ends_with_the_photo_kind_head_and_each_kinds_calibration(
        synth_dir: Path, tmp_path: Path, tmp_mlflow_uri: str) -> None:
    from skin_models.bundle import load_bundle
    from skin_models.predict import ClassifierPredictor
    from training.config import TrainConfig
    from training.trainer import run_training

    phone = tmp_path / "phone"
    shutil.copytree(synth_dir, phone)
    (phone / "SYNTHETIC").unlink(missing_ok=True)
    (phone / "PHOTO_KIND").write_text("phone\n", encoding="utf-8")
    _rename_ids(phone, "PH_")
    for image in (phone / "images").iterdir():  # a phone photo: more skin, a smaller, darker lesion, other light
        pixels = np.asarray(Image.open(image).convert("RGB")).astype(np.int16)
        Image.fromarray(np.clip(pixels * 0.7 + 60, 0, 255).astype(np.uint8)).save(image)
    assert {r.photo_kind for r in load_folders([synth_dir, phone])} == {"dermoscopic", "phone"}
    config = TrainConfig(task="classification", arch="resnet10t", input_size=(32, 40), epochs=2, batch_size=8,
                         lr=3e-3, augmentation="light", seed=1, tta="hflip")
    result = run_training([synth_dir, phone], config, work_dir=tmp_path / "clf", progress=False)
    _, bundle = load_bundle(result.bundle_dir)
    assert bundle.photo_kind_head and bundle.num_classes == 8 and set(bundle.kinds) == {"dermoscopic", "phone"}
    assert all(0 < k.triage_threshold < 1 and k.temperature > 0 for k in bundle.kinds.values())
    assert result.val_metrics["photo_kinds"]["kind_accuracy"]["val"] >= 0.75
    predictor = ClassifierPredictor(result.bundle_dir, backend="torch")
    outputs = predictor.predict_logits([Image.open(next((phone / "images").iterdir())).convert("RGB")])
    assert outputs.shape == (1, 8)
    assert predictor.predict_proba([Image.open(next((synth_dir / "images").iterdir())).convert("RGB")]).shape == (1, 7)


def _rename_ids(root: Path, prefix: str) -> None:
    for name in ("GroundTruth.csv", "metadata.csv"):
        path = root / name
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            path.write_text("\n".join([lines[0], *(prefix + line for line in lines[1:])]) + "\n", encoding="utf-8")
    for folder in ("images", "masks"):
        for file in list((root / folder).iterdir()) if (root / folder).exists() else []:
            file.rename(file.with_name(prefix + file.name))


def _extra_copy(synth_dir: Path, root: Path, prefix: str) -> Path:
    shutil.copytree(synth_dir, root)
    (root / "SYNTHETIC").unlink(missing_ok=True)
    _rename_ids(root, prefix)
    return root


def test_extra_folders_only_add_training_photos_and_say_where_each_photo_came_from(synth_dir: Path,
                                                                                   tmp_path: Path) -> None:
    from training.data import sources_summary

    extra = _extra_copy(synth_dir, tmp_path / "bcn", "BCN_")
    records = load_folders([synth_dir], training_only=[extra])
    assert {r.source for r in records} == {synth_dir.name, "bcn"}
    assert all(r.training_only == (r.source == "bcn") for r in records)
    splits = make_kind_splits(records)
    assert {splits[r.image_id] for r in records if r.training_only} == {"train"}
    alone = make_splits(load_records(synth_dir))
    assert {k: v for k, v in splits.items() if not k.startswith("BCN_")} == alone  # the yardstick is untouched
    summary = {row["source"]: row for row in sources_summary(records, splits)}
    assert summary["bcn"]["training_only"] and set(summary["bcn"]["images"]) == {"train"}
    assert sum(summary[synth_dir.name]["images"].values()) == len(alone)
    with pytest.raises(Exception, match="is in both"):
        load_folders([synth_dir], training_only=[synth_dir])


@pytest.mark.slow
def test_a_run_with_an_extra_folder_keeps_its_epochs_on_the_main_photos(synth_dir: Path, tmp_path: Path,
                                                                        tmp_mlflow_uri: str) -> None:
    from mlflow import MlflowClient

    from training.config import TrainConfig
    from training.trainer import run_training

    extra = _extra_copy(synth_dir, tmp_path / "isic2017", "X17_")
    config = TrainConfig(task="classification", arch="resnet10t", input_size=(32, 40), epochs=1, batch_size=8,
                         lr=3e-3, augmentation="light", seed=1, extra_share=0.5)
    result = run_training(synth_dir, config, work_dir=tmp_path / "clf", progress=False, extra_data=[extra])
    client = MlflowClient(tmp_mlflow_uri)
    sources = client.download_artifacts(result.run_id, "data_sources.json", str(tmp_path))
    rows = {row["source"]: row for row in __import__("json").loads(Path(sources).read_text())["sources"]}
    assert rows["isic2017"]["training_only"] and set(rows["isic2017"]["images"]) == {"train"}
    assert "isic2017" in client.get_run(result.run_id).data.params["data_path"]
    main_train = rows[synth_dir.name]["images"]["train"]
    steps = client.get_metric_history(result.run_id, "train_loss")
    assert steps and result.epochs == 1
    # the epoch drew main_train / (1 - 0.5) photos (the main ones as often as alone), in whole batches of 8
    import torch

    state = torch.load(tmp_path / "clf" / "checkpoint.pt", map_location="cpu", weights_only=True)["state"]
    assert state["step"] == (2 * main_train) // 8
