"""Class-imbalance helpers: sampling weights and the class mix that logit adjustment corrects for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.torchdata import class_log_prior, class_sampling_weights

TARGETS = np.array([0] * 80 + [1] * 15 + [2] * 5)


def test_log_prior_without_a_sampler_is_the_class_frequency() -> None:
    prior = class_log_prior(TARGETS, 4).exp()
    assert prior[:3].tolist() == pytest.approx([0.80 / 1.01, 0.15 / 1.01, 0.05 / 1.01], rel=1e-6)
    assert prior[3] > 0  # an absent class counts as one image: the log stays finite
    assert float(prior.sum()) == pytest.approx(1.0)


@pytest.mark.parametrize("power", [0.0, 0.5, 0.75, 1.0])
def test_log_prior_matches_the_mix_the_sampler_draws(power: float) -> None:
    targets = TARGETS[:100]
    weights = class_sampling_weights(targets, power, 3)
    drawn = np.bincount(targets, weights=weights, minlength=3) / weights.sum()
    assert class_log_prior(targets, 3, power).exp().numpy() == pytest.approx(drawn, rel=1e-5)


def test_a_balanced_sampler_leaves_nothing_to_adjust() -> None:
    prior = class_log_prior(TARGETS[:100], 3, 1.0)
    assert torch.allclose(prior, prior[0].expand(3))


def test_logit_adjusted_training_moves_the_argmax_towards_rare_classes() -> None:
    """A bias-only model trained on the natural mix predicts the majority; with the adjustment in the loss its
    logits stay (near) equal, so rare classes are not drowned out — the point of logit adjustment."""
    targets = torch.from_numpy(TARGETS[:100])
    shift = class_log_prior(TARGETS[:100], 3)
    results = {}
    for name, offset in {"plain": torch.zeros(3), "adjusted": shift}.items():
        bias = torch.zeros(3, requires_grad=True)
        optimiser = torch.optim.SGD([bias], lr=1.0)
        for _ in range(300):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy((bias + offset).expand(100, 3), targets)
            loss.backward()
            optimiser.step()
        results[name] = bias.detach()
    assert int(results["plain"].argmax()) == 0
    assert float(results["plain"][0] - results["plain"][2]) > 2.0
    assert float(results["adjusted"].max() - results["adjusted"].min()) < 0.05
