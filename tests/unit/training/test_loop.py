"""The training loop's moving average of the weights and its checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from training.loop import LoopSettings, WeightAverage, load_checkpoint, train


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def test_weight_average_follows_the_exponential_formula() -> None:
    model = _tiny()
    ema = WeightAverage(model, decay=0.9)
    start = ema.state_dict()["0.weight"].clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update(step=1000)  # decay warmed up to 0.9
    expected = 0.9 * start + 0.1 * model[0].weight
    torch.testing.assert_close(ema.state_dict()["0.weight"], expected)
    assert ema.state_dict()["1.num_batches_tracked"] == model[1].num_batches_tracked  # integers are copied
    ema.update(step=0)  # first step: decay (1 + 0) / (10 + 0) = 0.1, so the average jumps to the live weights
    torch.testing.assert_close(ema.state_dict()["0.weight"], 0.1 * expected + 0.9 * model[0].weight)


def test_weight_average_rejects_a_bad_decay() -> None:
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        WeightAverage(_tiny(), decay=1.0)


def test_loop_with_ema_returns_the_averaged_weights_and_checkpoints_them(tmp_path: Path) -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    loader = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    seen: list[dict[str, torch.Tensor]] = []

    def validate(net: nn.Module) -> dict[str, float]:
        seen.append({k: v.clone() for k, v in net.state_dict().items()})
        return {"val_metric": -len(seen)}  # the first epoch is the best

    settings = LoopSettings(epochs=3, lr=0.05, weight_decay=0.0, channels_last=False, ema_decay=0.5,
                            checkpoint_path=tmp_path / "ck.pt")
    model = _tiny()
    trained, state = train(model, loader, nn.functional.cross_entropy, validate, settings, torch.device("cpu"),
                           steps_per_epoch=len(loader))
    assert state.best_epoch == 1 and len(seen) == 3
    torch.testing.assert_close(trained.state_dict()["0.weight"], seen[0]["0.weight"])
    # what was validated was the average, not the live weights
    payload, loaded_state = load_checkpoint(tmp_path / "ck.pt")
    assert not torch.allclose(payload["ema_model"]["0.weight"], payload["model"]["0.weight"])
    torch.testing.assert_close(payload["ema_model"]["0.weight"], seen[-1]["0.weight"])
    torch.testing.assert_close(payload["best_model"]["0.weight"], seen[0]["0.weight"])
    assert loaded_state.epoch == 3 and not math.isinf(loaded_state.best_metric)
