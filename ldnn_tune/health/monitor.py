"""Training health the article says to watch: the update/weight ratio, and divergence.

:class:`HealthMonitor` measures, for every weight matrix, ``||W_after - W_before|| / ||W||``
at each optimiser step and reports the epoch mean per layer plus the median, min and max
over layers. With ``prune=True`` it ends a trial early (as pruned, with the reason) when the
loss, gradients or weights stop being finite, or when the median ratio stays outside the
healthy band for a whole epoch.
"""

import math
import statistics
from dataclasses import dataclass
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


class TrialUnhealthy(optuna.TrialPruned):
    """A trial ended by the health monitor; the message is the reason."""


class HealthMonitor(pl.Callback):
    """Measure the update/weight ratio during training; prune broken trials if asked.

    A measured step costs a copy of the weights and a few ``torch._foreach`` ops, summed on
    the device. About ``samples`` steps an epoch are measured, evenly spaced from its first
    (every step of an epoch of fewer): which steps depends on the epoch's length alone, not
    on the machine's speed, so a seeded trial is judged the same way everywhere. The band
    spans five decades; a few samples place an epoch in it. The host reads the sums every
    ``check_every`` steps and at the epoch's end, so a non-finite loss or weight ends the
    trial within that many steps.

    ``on_epoch(epoch, metrics)`` receives the epoch's ratio metrics
    (``update_ratio/<layer>``, ``update_ratio_median``, ``_min``, ``_max``).
    """

    def __init__(
        self,
        band: HealthBand,
        prune: bool,
        on_epoch: Any = None,
        check_every: int = 16,
        samples: int = 4,
        judge_band: bool = True,
    ) -> None:
        """Watch against ``band``; raise :class:`TrialUnhealthy` when ``prune`` is set.

        With ``judge_band=False`` only a diverged trial is stopped, whatever its ratios.
        """
        self.band = band
        self.prune = prune
        self.judge_band = judge_band
        self.on_epoch = on_epoch
        self.check_every = check_every
        self.samples = samples
        self.last_metrics: dict[str, float] = {}
        self._names: list[str] = []
        self._params: list[torch.Tensor] = []
        self._before: list[torch.Tensor] = []
        self._sum = torch.zeros(0)
        self._nonfinite_loss = torch.zeros(0)
        self._nonfinite_inputs = torch.zeros(0)
        self._steps = 0
        self._measured = 0
        self._measuring = False
        self._stride = 1  # measure every stride-th step of the epoch

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Find the weight matrices once and make the buffers the snapshots go into."""
        weights = _weights(pl_module)
        self._names = [name for name, _ in weights]
        self._params = [p.detach() for _, p in weights]
        self._before = [torch.empty_like(p) for p in self._params]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Start a fresh epoch's tally."""
        device = pl_module.device
        self._sum = torch.zeros(len(self._params), device=device)
        self._nonfinite_loss = torch.zeros((), device=device, dtype=torch.int64)
        self._nonfinite_inputs = torch.zeros((), device=device, dtype=torch.int64)
        self._steps = self._measured = 0
        self._stride = _stride(trainer.num_training_batches, self.samples)

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any
    ) -> None:
        """Copy the weights before the update, when this step is to be measured."""
        self._measuring = bool(self._params) and self._steps % self._stride == 0
        if self._measuring:
            torch._foreach_copy_(self._before, self._params)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """Add each layer's ``||W_after - W_before|| / ||W_before||``; look every few steps."""
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            self._nonfinite_loss += (~torch.isfinite(loss.detach())).any()
        inputs = batch[0] if isinstance(batch, list | tuple) and batch else None
        if isinstance(inputs, torch.Tensor) and inputs.is_floating_point():
            # NaN data trains to a NaN loss: what to fix is the data, not the knobs
            self._nonfinite_inputs += (~torch.isfinite(inputs)).any()
        if self._measuring:
            update = torch._foreach_sub(self._params, self._before)
            changes = torch.stack(torch._foreach_norm(update))
            sizes = torch.stack(torch._foreach_norm(self._before))
            self._sum += torch.where(sizes > 0, changes / sizes, torch.zeros_like(sizes))
            self._measured += 1
        self._steps += 1
        if self._steps % self.check_every == 0:
            self._check_finite(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Report the epoch's ratios; prune if the median stayed outside the band."""
        if not self._steps:
            return
        self._check_finite(trainer)
        if not self._measured:
            return
        means = dict(zip(self._names, (self._sum / self._measured).tolist(), strict=True))
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
        if self.judge_band and not self.band.contains(median):
            self._unhealthy(
                f"unhealthy: median update/weight ratio {median:.2e} outside "
                f"[{self.band.low:.0e}, {self.band.high:.0e}] for all of epoch "
                f"{trainer.current_epoch + 1}"  # counted from 1, as the `epochs` column
            )

    def _check_finite(self, trainer: pl.Trainer) -> None:
        """Prune when a loss or an update of this epoch was not finite (one host read)."""
        if int(self._nonfinite_loss):
            if int(self._nonfinite_inputs):
                self._unhealthy(
                    f"the training inputs hold NaN or infinite values (by step "
                    f"{trainer.global_step}): fix the data; ldnn-tune check's data check "
                    "names them"
                )
            self._unhealthy(f"diverged: training loss not finite by step {trainer.global_step}")
        if not bool(torch.isfinite(self._sum).all()):
            self._unhealthy(
                f"diverged: weights or gradients not finite by step {trainer.global_step}"
            )

    def _unhealthy(self, reason: str) -> None:
        if self.prune:
            raise TrialUnhealthy(reason)


def _stride(batches: float, samples: int) -> int:
    """Return the step interval that measures about ``samples`` of an epoch's ``batches``.

    An epoch of unknown length (an iterable dataset) is measured every ``samples`` steps.
    """
    if not math.isfinite(batches):
        return samples
    return max(1, math.ceil(batches / samples))


def _weights(module: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    """Return the trainable weight matrices and kernels (biases and gains excluded)."""
    return [
        (name.removeprefix("net."), p)
        for name, p in module.named_parameters()
        if p.requires_grad and p.ndim >= 2
    ]
