"""RecipeModule: a LightningModule that trains any net the way the article says."""

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn

from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.hparams import Recipe
from ldnn_tune.recipe.init import apply_init


class RecipeModule(pl.LightningModule):
    """Wraps a task's ``net`` with the recipe's loss, optimiser and LR schedule.

    - the loss is averaged over the batch (and over positions for sequence outputs), so the
      LR survives a change of batch size;
    - SGD with momentum at ``recipe.lr``; the LR is divided by ``recipe.lr_factor`` when
      validation loss has not improved for ``recipe.lr_patience`` epochs;
    - ``augment`` runs on training batches only, so evaluation sees clean inputs, and
      Lightning's eval mode switches dropout off for validation, test and prediction.

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
    ) -> None:
        """Wrap ``net``; initialise its Linear/Conv weights per the recipe unless told not to."""
        super().__init__()
        self.net = net
        self.recipe = recipe
        self.kind = kind
        self.augment = augment
        if init_weights:
            apply_init(net, recipe)

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
        out = self(x)
        loss = self.loss(out, y)
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        if self.kind is TaskKind.CLASSIFICATION:
            accuracy = (out.argmax(dim=-1) == y).float().mean()
            self.log(f"{stage}_acc", accuracy, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Return the batch-averaged training loss of one (augmented) minibatch."""
        return self._step(batch, "train")

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Log ``val_loss`` (and ``val_acc``) of one validation minibatch."""
        return self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        """Log ``test_loss`` (and ``test_acc``) of one test minibatch."""
        return self._step(batch, "test")

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
        """Clip the global gradient norm at ``recipe.clip_norm``; log the norm and clip rate.

        ``grad_norm`` (before clipping) and ``clip_fraction`` (share of steps where clipping
        fired) are logged as epoch means.
        """
        limit = self.recipe.clip_norm
        norm = torch.nn.utils.clip_grad_norm_(self.parameters(), limit)
        self.log("grad_norm", norm, on_step=False, on_epoch=True)
        self.log("clip_fraction", (norm > limit).float(), on_step=False, on_epoch=True)

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
