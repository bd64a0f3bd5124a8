"""Training health the article says to watch: the update/weight ratio, and divergence.

:class:`HealthMonitor` measures, for every weight matrix, ``||W_after - W_before|| / ||W||``
at each optimiser step and reports the epoch mean per layer plus the median, min and max
over layers. With ``prune=True`` it ends a trial early (as pruned, with the reason) when the
loss or gradients stop being finite, or when the median ratio stays outside the healthy band
for a whole epoch.
"""

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
import optuna
import torch

from ldnn_tune.config.defaults import RATIO_HIGH, RATIO_LOW


@dataclass
class HealthBand:
    """The update/weight ratio band outside which a whole epoch counts as unhealthy.

    The defaults and why they were chosen: :mod:`ldnn_tune.config.defaults`.
    """

    low: float = RATIO_LOW
    high: float = RATIO_HIGH

    def contains(self, ratio: float) -> bool:
        """Return whether ``ratio`` is inside the band."""
        return self.low <= ratio <= self.high


@dataclass
class _EpochRatios:
    sums: dict[str, float] = field(default_factory=dict)
    steps: int = 0

    def add(self, ratios: dict[str, float]) -> None:
        for name, value in ratios.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.steps += 1

    def means(self) -> dict[str, float]:
        return {name: total / self.steps for name, total in self.sums.items()}


class TrialUnhealthy(optuna.TrialPruned):
    """A trial ended by the health monitor; the message is the reason."""


class HealthMonitor(pl.Callback):
    """Measure the update/weight ratio each step; prune broken trials if asked.

    ``on_epoch(epoch, metrics)`` receives the epoch's ratio metrics
    (``update_ratio/<layer>``, ``update_ratio_median``, ``_min``, ``_max``).
    """

    def __init__(self, band: HealthBand, prune: bool, on_epoch: Any = None) -> None:
        """Watch against ``band``; raise :class:`TrialUnhealthy` when ``prune`` is set."""
        self.band = band
        self.prune = prune
        self.on_epoch = on_epoch
        self._before: dict[str, torch.Tensor] = {}
        self._epoch = _EpochRatios()
        self.last_metrics: dict[str, float] = {}

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start a fresh epoch's tally."""
        self._epoch = _EpochRatios()

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any
    ) -> None:
        """Check gradients are finite and remember the weights before the update."""
        for name, param in _weights(pl_module):
            if param.grad is not None and not torch.isfinite(param.grad).all():
                self._unhealthy(f"diverged: gradient of {name} is not finite")
        self._before = {name: p.detach().clone() for name, p in _weights(pl_module)}

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """Measure each layer's update ratio; prune at once if the loss is not finite."""
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            self._unhealthy(
                f"diverged: training loss is {float(loss)} at step {trainer.global_step}"
            )
        if not self._before:
            return
        ratios = {}
        for name, param in _weights(pl_module):
            before = self._before.get(name)
            if before is not None:
                norm = float(before.norm())
                ratios[name] = float((param.detach() - before).norm()) / norm if norm else 0.0
        self._epoch.add(ratios)
        self._before = {}

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Report the epoch's ratios; prune if the median stayed outside the band."""
        if not self._epoch.steps:
            return
        means = self._epoch.means()
        values = list(means.values())
        median = statistics.median(values)
        self.last_metrics = {
            **{f"update_ratio/{name}": value for name, value in means.items()},
            "update_ratio_median": median,
            "update_ratio_min": min(values),
            "update_ratio_max": max(values),
        }
        if self.on_epoch is not None:
            self.on_epoch(trainer.current_epoch, self.last_metrics)
        if not math.isfinite(median):
            self._unhealthy("diverged: update/weight ratio is not finite")
        if not self.band.contains(median):
            self._unhealthy(
                f"unhealthy: median update/weight ratio {median:.2e} outside "
                f"[{self.band.low:.0e}, {self.band.high:.0e}] for all of epoch "
                f"{trainer.current_epoch}"
            )

    def _unhealthy(self, reason: str) -> None:
        if self.prune:
            raise TrialUnhealthy(reason)


def _weights(module: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    """Return the trainable weight matrices and kernels (biases and gains excluded)."""
    return [
        (name.removeprefix("net."), p)
        for name, p in module.named_parameters()
        if p.requires_grad and p.ndim >= 2
    ]
