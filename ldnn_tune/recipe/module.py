"""RecipeModule: a LightningModule that trains any net the way the article says."""

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn

from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.hparams import Recipe
from ldnn_tune.recipe.init import apply_init


class EpochTally:
    """Running sums of one epoch's loss, accuracy, gradient norm and clip rate, on the device.

    Each batch's mean is weighted by its size, so the epoch value is the mean over examples;
    the gradient figures are means over steps.
    """

    PER_STEP = ("grad_norm", "clip_fraction")

    def __init__(self) -> None:
        """Start an empty tally."""
        self.sums: dict[str, torch.Tensor] = {}
        self.examples = 0
        self.clip_steps = 0

    def _add(self, name: str, value: torch.Tensor) -> None:
        self.sums[name] = self.sums[name] + value if name in self.sums else value

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor, kind: TaskKind) -> None:
        """Add one batch's (batch-averaged) ``loss`` and, for classification, its accuracy."""
        n = len(y)
        self._add("loss", loss.detach() * n)
        if kind is TaskKind.CLASSIFICATION:
            self._add("acc", (out.detach().argmax(dim=-1) == y).float().mean() * n)
        self.examples += n

    def add_clip(self, norm: torch.Tensor, limit: float) -> None:
        """Add one step's gradient norm (before clipping) and whether clipping fired."""
        self._add("grad_norm", norm)
        self._add("clip_fraction", (norm > limit).float())
        self.clip_steps += 1

    def means(self) -> dict[str, torch.Tensor]:
        """Return the epoch means: per example, or per step for the gradient figures."""
        return {
            name: total / (self.clip_steps if name in self.PER_STEP else self.examples)
            for name, total in self.sums.items()
        }


class RecipeModule(pl.LightningModule):
    """Wraps a task's ``net`` with the recipe's loss, optimiser and LR schedule.

    - the loss is averaged over the batch (and over positions for sequence outputs), so the
      LR survives a change of batch size;
    - SGD with momentum at ``recipe.lr``; the LR is divided by ``recipe.lr_factor`` at the
      first epoch without validation improvement after ``recipe.lr_patience`` such epochs;
    - ``augment`` runs on training batches only, so evaluation sees clean inputs, and
      Lightning's eval mode switches dropout off for validation, test and prediction;
    - ``mixup`` > 0 (classification, floating-point inputs) trains on mixtures of pairs of
      (augmented) examples, ``lam * a + (1 - lam) * b`` with ``lam ~ Beta(mixup, mixup)``
      per batch, and the loss is mixed the same way (Zhang et al., 2018).

    Classification nets output scores of shape ``(..., classes)`` for targets ``(...)``;
    regression nets output values of the targets' shape.
    """

    def __init__(
        self,
        net: nn.Module,
        recipe: Recipe,
        kind: TaskKind = TaskKind.CLASSIFICATION,
        augment: nn.Module | None = None,
        init_weights: bool = True,
        mixup: float = 0.0,
    ) -> None:
        """Wrap ``net``; initialise its Linear/Conv weights per the recipe unless told not to."""
        super().__init__()
        self.net = net
        self.recipe = recipe
        self.kind = kind
        self.augment = augment
        if mixup > 0 and kind is not TaskKind.CLASSIFICATION:
            raise ValueError(f"mixup={mixup} needs a classification task, not {kind}")
        self.mixup = mixup
        self._tallies: dict[str, EpochTally] = {}
        self.last_grad_norm: torch.Tensor | None = None
        if init_weights:
            apply_init(net, recipe)

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        """Return ``batch`` on ``device``; a batch of tensors already there costs nothing.

        ``SplitDataModule`` puts the whole split on the training device before training,
        so Lightning's generic walk over every batch would find nothing to move.
        """
        if isinstance(batch, tuple | list) and all(
            isinstance(t, torch.Tensor) and t.device == device for t in batch
        ):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the net's raw outputs (scores or values) for inputs ``x``."""
        out: torch.Tensor = self.net(x)
        return out

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Return the batch-averaged loss: cross-entropy or mean squared error."""
        if self.kind is TaskKind.CLASSIFICATION:
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        return F.mse_loss(out.reshape(y.shape), y)

    def to_predictions(self, out: torch.Tensor) -> torch.Tensor:
        """Return what an ensemble averages: class probabilities, or the values themselves."""
        if self.kind is TaskKind.CLASSIFICATION:
            return out.softmax(dim=-1)
        return out

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        if stage == "train" and self.augment is not None:
            x = self.augment(x)
        if stage == "train" and self.mixup > 0:
            out, loss = self._mixed_step(x, y)
        else:
            out = self(x)
            loss = self.loss(out, y)
        self._tallies.setdefault(stage, EpochTally()).add(loss, out, y, self.kind)
        return loss

    def _mixed_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the outputs and mixed loss on ``x`` mixed with a shuffled copy of itself."""
        if not x.is_floating_point():
            raise TypeError(f"mixup mixes floating-point inputs, not {x.dtype}")
        # drawn on x's device, unchecked: a draw on the CPU moved to a GPU, or the
        # distribution's argument checks, would wait for the GPU every step
        alpha = torch.full((), self.mixup, device=x.device)
        lam = torch.distributions.Beta(alpha, alpha, validate_args=False).sample().to(x.dtype)
        partner = torch.randperm(len(x), device=x.device)
        out = self(lam * x + (1 - lam) * x[partner])
        loss = lam * self.loss(out, y) + (1 - lam) * self.loss(out, y[partner])
        return out, loss

    def _log_tally(self, stage: str) -> None:
        """Log the epoch's mean ``{stage}_loss`` (and ``{stage}_acc``) once, then reset.

        The sums stay on the device all epoch: no host sync and no ``self.log`` per step.
        """
        tally = self._tallies.pop(stage, None)
        if tally is not None:
            for name, value in tally.means().items():
                key = name if name in EpochTally.PER_STEP else f"{stage}_{name}"
                self.log(key, value, on_step=False, on_epoch=True)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Return the batch-averaged training loss of one (augmented) minibatch."""
        return self._step(batch, "train")

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """After the epoch's last step, log its ``train_loss``, ``grad_norm`` and the rest."""
        if batch_idx + 1 == self.trainer.num_training_batches:
            self._log_tally("train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Add one validation minibatch to the epoch's ``val_loss`` (and ``val_acc``)."""
        return self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        """Log the epoch's ``val_loss`` (and ``val_acc``)."""
        self._log_tally("val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Add one test minibatch to ``test_loss`` (and ``test_acc``)."""
        return self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        """Log ``test_loss`` (and ``test_acc``)."""
        self._log_tally("test")

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Return predictions (probabilities or values) for a batch's inputs."""
        x = batch[0] if isinstance(batch, list | tuple) else batch
        return self.to_predictions(self(x))

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: int | float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Clip the global gradient norm at ``recipe.clip_norm``; tally the norm and clip rate.

        ``grad_norm`` (before clipping) and ``clip_fraction`` (share of steps where clipping
        fired) are logged as epoch means with the training metrics; :attr:`last_grad_norm`
        keeps the step's norm for the health monitor (not finite: a gradient is not).
        """
        limit = self.recipe.clip_norm
        norm = torch.nn.utils.clip_grad_norm_(self.parameters(), limit)
        self.last_grad_norm = norm.detach()
        self._tallies.setdefault("train", EpochTally()).add_clip(self.last_grad_norm, limit)

    def configure_optimizers(self) -> Any:
        """Return SGD with momentum and a divide-on-plateau schedule watching ``val_loss``."""
        optimizer = torch.optim.SGD(
            self.parameters(), lr=self.recipe.lr, momentum=self.recipe.momentum
        )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="min",
            factor=1.0 / self.recipe.lr_factor,
            patience=self.recipe.lr_patience,
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss", "interval": "epoch"},
        }
