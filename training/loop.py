"""The shared training loop: epochs under a time budget, a time-aware LR schedule, an optional exponential moving
average of the weights, early stopping on the validation metric, the best weights kept (not the last),
resumable checkpoints, mixed precision on CUDA."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm


@dataclass
class LoopState:
    """What a checkpoint holds besides the weights, so that ``--resume`` continues where it stopped."""

    epoch: int = 0
    step: int = 0
    elapsed_s: float = 0.0
    best_metric: float = -math.inf
    best_epoch: int = -1
    epochs_without_improvement: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    mlflow_run_id: str | None = None


@dataclass
class LoopSettings:
    epochs: int
    lr: float
    weight_decay: float
    schedule: str = "cosine"
    warmup_fraction: float = 0.03
    time_budget_s: float | None = None
    patience: int = 8
    channels_last: bool = True
    metric_name: str = "val_metric"
    checkpoint_path: Path | None = None
    ema_decay: float = 0.0
    cpu_bf16: bool = False  # on a CPU: forward pass and loss under bfloat16 autocast (CPUs with AVX512-BF16/AMX)


class WeightAverage:
    """An exponential moving average of a model's weights (parameters and buffers), updated every step.

    Short runs from scratch end on noisy weights; the average over the last few hundred steps validates better
    and more steadily. The decay warms up as ``min(decay, (1 + step) / (10 + step))`` so the random first weights
    fade out quickly. Integer buffers (batch counts) are copied, not averaged.
    """

    def __init__(self, model: nn.Module, decay: float, shadow: dict[str, torch.Tensor] | None = None) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), not {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model)
        if shadow is not None:
            self.model.load_state_dict(shadow)
        live, averaged = model.state_dict(), self.model.state_dict()
        self._pairs = [(averaged[k], live[k]) for k in live]
        self._float = [(a, v) for a, v in self._pairs if a.is_floating_point()]

    @torch.no_grad()
    def update(self, step: int) -> None:
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        torch._foreach_lerp_([a for a, _ in self._float], [v for _, v in self._float], 1.0 - decay)
        for averaged, value in self._pairs:
            if not averaged.is_floating_point():
                averaged.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()


def lr_factor(progress: float, schedule: str, warmup: float) -> float:
    """LR multiplier at ``progress`` ∈ [0, 1] of the run (by steps or by time budget, whichever is further)."""
    if schedule == "constant":
        return 1.0
    if warmup > 0 and progress < warmup:
        return max(progress / warmup, 0.01)
    span = max(1e-9, 1.0 - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (progress - warmup) / span))) * 0.99 + 0.01


def train(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    validate: Callable[[nn.Module], dict[str, float]],
    settings: LoopSettings,
    device: torch.device,
    *,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    state: LoopState | None = None,
    optimizer_state: dict[str, Any] | None = None,
    ema_state: dict[str, torch.Tensor] | None = None,
    best_state: dict[str, torch.Tensor] | None = None,
    steps_per_epoch: int,
    batch_transform: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> tuple[nn.Module, LoopState]:
    """Train ``model``; return it holding the best validation weights (of the moving average when
    ``settings.ema_decay`` > 0), and the loop's state. ``batch_transform`` (e.g. ``BatchMixer``) rewrites each
    training batch, images and targets, before the forward pass."""
    state = state or LoopState()
    model.to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    if optimizer_state:
        optimizer.load_state_dict(optimizer_state)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    # CUDA: float16 with loss scaling. CPU: bfloat16 (same exponent range as float32, so no scaler) when asked.
    amp_dtype = torch.float16 if use_amp else torch.bfloat16
    use_amp = use_amp or (settings.cpu_bf16 and device.type == "cpu")
    ema = WeightAverage(model, settings.ema_decay, ema_state) if settings.ema_decay > 0 else None
    total_steps = max(1, settings.epochs * steps_per_epoch)
    best_weights = best_state if best_state is not None else copy.deepcopy(model.state_dict())
    started = time.monotonic() - state.elapsed_s

    def progress() -> float:
        by_steps = state.step / total_steps
        if settings.time_budget_s:
            return max(by_steps, (time.monotonic() - started) / settings.time_budget_s)
        return by_steps

    epoch_times: list[float] = []
    while state.epoch < settings.epochs:
        epoch_start = time.monotonic()
        model.train()
        running, seen = 0.0, 0
        bar = tqdm(loader, total=steps_per_epoch, desc=f"epoch {state.epoch + 1}/{settings.epochs}", unit="batch",
                   leave=False)
        for images, targets in bar:
            factor = lr_factor(min(progress(), 1.0), settings.schedule, settings.warmup_fraction)
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * factor
            images = images.to(device, non_blocking=True)
            targets = targets.to(device, non_blocking=True)
            if batch_transform is not None:
                images, targets = batch_transform(images, targets)
            if settings.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                loss = loss_fn(model(images), targets)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if ema is not None:
                ema.update(state.step)
            state.step += 1
            running += float(loss.detach()) * len(images)
            seen += len(images)
            bar.set_postfix(loss=f"{running / max(seen, 1):.4f}", lr=f"{settings.lr * factor:.2e}")
            if settings.time_budget_s and time.monotonic() - started > settings.time_budget_s:
                break
        bar.close()
        state.epoch += 1
        evaluated = ema.model if ema is not None else model
        metrics = {"train_loss": running / max(seen, 1), **validate(evaluated)}
        metrics["lr"] = settings.lr * factor
        metrics["epoch_seconds"] = time.monotonic() - epoch_start
        epoch_times.append(metrics["epoch_seconds"])
        state.elapsed_s = time.monotonic() - started
        current = metrics[settings.metric_name]
        improved = current > state.best_metric
        if improved:
            state.best_metric, state.best_epoch = current, state.epoch
            state.epochs_without_improvement = 0
            best_weights = copy.deepcopy(evaluated.state_dict())
        else:
            state.epochs_without_improvement += 1
        state.history.append({"epoch": state.epoch, **metrics})
        tqdm.write(f"epoch {state.epoch}: loss {metrics['train_loss']:.4f}  {settings.metric_name} {current:.4f}"
                   f"{'  (best)' if improved else ''}  [{metrics['epoch_seconds']:.0f}s]")
        if on_epoch_end:
            on_epoch_end(state.epoch, metrics)
        if settings.checkpoint_path:
            save_checkpoint(settings.checkpoint_path, model, optimizer, state, best_weights,
                            ema.state_dict() if ema is not None else None)
        if state.epochs_without_improvement >= settings.patience:
            tqdm.write(f"early stop: no improvement in {settings.patience} epochs")
            break
        if settings.time_budget_s:
            remaining = settings.time_budget_s - state.elapsed_s
            # A partial last epoch still helps (the time-based schedule is at its lowest learning rate there; the
            # step loop stops at the deadline), so stop only when what is left is too short to be worth a pass.
            if remaining < max(30.0, 0.1 * (sum(epoch_times[-2:]) / len(epoch_times[-2:]))):
                tqdm.write(f"time budget reached after {state.epoch} epochs ({state.elapsed_s / 60:.1f} min)")
                break
    model.load_state_dict(best_weights)
    return model, state


def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, state: LoopState,
                    best_weights: dict[str, torch.Tensor], ema_weights: dict[str, torch.Tensor] | None = None) -> None:
    """Weights, optimizer and loop state as plain tensors and numbers (loadable with ``weights_only=True``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": model.state_dict(),
        "best_model": best_weights,
        "ema_model": ema_weights,
        "optimizer": optimizer.state_dict(),
        "state": {k: v for k, v in state.__dict__.items()},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> tuple[dict[str, Any], LoopState]:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return payload, LoopState(**payload["state"])
