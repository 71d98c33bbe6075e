"""The post-hoc logit adjustment (Menon et al. 2021) chosen on validation: it leans a network that favours the
common class back towards the rare ones when that raises balanced accuracy, and stays off when it does not."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import MIN_ADJUSTMENT_GAIN, choose_logit_adjustment
from training.metrics import balanced_accuracy


def _biased_logits(n_per_class: tuple[int, ...], lean: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a network that knows each class (the right one scores +2 on average) but adds ``lean`` to
    class 0, the class it saw most."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(n_per_class)])
    logits = rng.normal(0.0, 1.0, (len(y), len(n_per_class)))
    logits[np.arange(len(y)), y] += 2.0
    logits[:, 0] += lean
    return logits, y


def test_a_network_leaning_to_the_common_class_is_adjusted_and_gains_balanced_accuracy() -> None:
    logits, y = _biased_logits((600, 80, 60, 40), lean=2.5)
    before = balanced_accuracy(y, logits.argmax(axis=1), 4)
    tau, offsets, by_tau = choose_logit_adjustment(logits, y)
    assert tau > 0 and offsets is not None and offsets.shape == (4,)
    assert offsets[0] < 0 < offsets[1]  # away from the common class, towards the rare ones
    after = balanced_accuracy(y, (logits + offsets).argmax(axis=1), 4)
    assert after >= before + MIN_ADJUSTMENT_GAIN
    assert by_tau[0.0] == before and by_tau[tau] == pytest.approx(after)  # the curve holds what was chosen
    # the recall of the rarest class rises
    rare = y == 3
    assert ((logits + offsets)[rare].argmax(axis=1) == 3).mean() > (logits[rare].argmax(axis=1) == 3).mean()


def test_a_network_that_does_not_lean_is_left_alone() -> None:
    logits, y = _biased_logits((200, 200, 200, 200), lean=0.0, seed=1)
    tau, offsets, by_tau = choose_logit_adjustment(logits, y)
    assert tau == 0.0 and offsets is None
    assert len(by_tau) > 10 and all(0.0 <= v <= 1.0 for v in by_tau.values())


def test_balanced_accuracy_counts_only_the_classes_present() -> None:
    y = np.array([0, 0, 2, 2])
    assert balanced_accuracy(y, np.array([0, 1, 2, 2]), 3) == 0.75


def test_each_kind_gets_its_own_adjustment_and_the_served_answer_uses_it() -> None:
    from skin_models.context import PatientContext
    from skin_models.labels import CLASS_CODES
    from training.photo_kind import calibrate_kinds

    def outputs(n_per_class: tuple[int, ...], lean: float, phone: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
        logits, y = _biased_logits(n_per_class, lean, seed)
        logits = logits[:, [1, 0, 2, 3, 4, 5, 6]]  # class 0 of the helper is nv (index 1 in CLASS_CODES)
        y = np.array([1, 0, 2, 3, 4, 5, 6])[y]
        head = np.full((len(y), 1), 4.0 if phone else -4.0)  # the head names the kind right
        return np.hstack([logits, head]), y

    counts = (500, 60, 40, 30, 30, 20, 20)  # nv first: the common class
    derm_val, derm_y = outputs(counts, lean=2.5, phone=False, seed=2)  # a network leaning to moles
    phone_val, phone_y = outputs((40,) * 7, lean=0.0, phone=True, seed=3)  # and one that does not
    val = np.vstack([derm_val, phone_val])
    targets = {"train": np.concatenate([derm_y, phone_y]), "val": np.concatenate([derm_y, phone_y])}
    kinds = {split: np.array(["dermoscopic"] * len(derm_y) + ["phone"] * len(phone_y)) for split in targets}
    contexts = {split: [PatientContext()] * len(targets[split]) for split in targets}
    finish = calibrate_kinds({"val": val}, targets, kinds, contexts, CLASS_CODES, 0.9)
    derm, phone = finish.kinds["dermoscopic"], finish.kinds["phone"]
    assert derm.adjustment > 0 and derm.class_offsets is not None and len(derm.class_offsets) == 7
    assert derm.class_offsets[CLASS_CODES.index("nv")] < 0 < derm.class_offsets[CLASS_CODES.index("mel")]
    assert phone.adjustment == 0.0 and phone.class_offsets is None
    mel = CLASS_CODES.index("mel")
    served = finish.probabilities["val"][: len(derm_y)]
    assert (served[derm_y == mel].argmax(axis=1) == mel).mean() > (derm_val[derm_y == mel, :7].argmax(axis=1) ==
                                                                    mel).mean()
    curve = finish.metrics["val"]["dermoscopic"]["adjustment_balanced_accuracy"]
    assert curve["0"] < max(curve.values())


def test_an_adjustment_must_win_on_resampled_photos_not_only_on_these() -> None:
    from training.calibration import adjustment_confidence

    y = np.repeat(np.arange(4), 25)
    plain = y.copy()
    plain[:20] = 1  # class 0 mostly missed
    assert adjustment_confidence(y, plain, y) > 0.99  # right everywhere: wins on every resample
    assert adjustment_confidence(y, plain, plain) == 0.0  # the same answers never win
    one_more = plain.copy()
    one_more[0] = 0  # one photo better: a gain here, but a resample without that photo shows none
    assert 0.0 < adjustment_confidence(y, plain, one_more) < 0.9
