"""SequenceModule: the recipe's training plus each problem's own validation metric."""

import torch
import torch.nn.functional as F
from torch import nn

from ldnn_tune import Recipe, RecipeModule, TaskKind
from ldnn_tune_sequence.options import SOLVED_ERROR


def solved_fraction(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return the share of sequences whose prediction is within 0.04 of the target."""
    return ((out.reshape(y.shape) - y).abs() < SOLVED_ERROR).float().mean()


def sequence_accuracy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return the share of sequences with every output position right."""
    return (out.argmax(dim=-1) == y).all(dim=-1).float().mean()


def nats_per_char(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return the mean cross-entropy per character in nats."""
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


METRICS = {
    "adding": ("val_solved", solved_fraction),
    "copy": ("val_seq_acc", sequence_accuracy),
    "sort": ("val_seq_acc", sequence_accuracy),
    "text": ("val_nats_per_char", nats_per_char),
}


class SequenceModule(RecipeModule):
    """A RecipeModule that also logs the problem's metric on validation data each epoch.

    adding: ``val_solved`` (share with absolute error < 0.04); copy and sort:
    ``val_seq_acc`` (whole-sequence accuracy; ``val_acc`` is per position); text:
    ``val_nats_per_char``. Parity has only ``val_acc``.
    """

    def __init__(self, net: nn.Module, recipe: Recipe, kind: TaskKind, problem: str) -> None:
        """Wrap ``net`` for ``problem``; the caller initialises all weights."""
        super().__init__(net, recipe, kind=kind, init_weights=False)
        self.problem = problem

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        """Log ``val_loss`` (and ``val_acc``) and the problem's own metric."""
        super().validation_step(batch, batch_idx)
        if self.problem not in METRICS:
            return
        name, metric = METRICS[self.problem]
        x, y = batch
        with torch.no_grad():
            value = metric(self(x), y)
        self.log(name, value, on_step=False, on_epoch=True, batch_size=len(y))
