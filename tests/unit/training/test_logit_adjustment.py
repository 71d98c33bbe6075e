"""The post-hoc logit adjustment (Menon et al. 2021) chosen on validation: it leans a network that favours the
common class back towards the rare ones when that raises balanced accuracy, and stays off when it does not."""

from __future__ import annotations

import numpy as np

from training.calibration import MIN_ADJUSTMENT_GAIN, balanced_accuracy_present, choose_logit_adjustment


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
    before = balanced_accuracy_present(y, logits.argmax(axis=1))
    tau, offsets, by_tau = choose_logit_adjustment(logits, y)
    assert tau > 0 and offsets is not None and offsets.shape == (4,)
    assert offsets[0] < 0 < offsets[1]  # away from the common class, towards the rare ones
    after = balanced_accuracy_present(y, (logits + offsets).argmax(axis=1))
    assert after >= before + MIN_ADJUSTMENT_GAIN
    assert by_tau[0.0] == before and max(by_tau.values()) >= after
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
    assert balanced_accuracy_present(y, np.array([0, 1, 2, 2])) == 0.75
