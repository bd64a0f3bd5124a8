"""Data helpers a task can reuse: seeded splits, train-only standardisation, a datamodule."""

from dataclasses import dataclass

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

STD_FLOOR = 1e-6


@dataclass(frozen=True)
class Split:
    """Inputs and targets of the train, validation and test parts of a data set."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def split_indices(
    labels: np.ndarray, seed: int, val_fraction: float = 0.2, test_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return train/val/test index arrays, stratified by ``labels``, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(len(members) * test_fraction)
        n_val = round(len(members) * val_fraction)
        parts[2].extend(members[:n_test])
        parts[1].extend(members[n_test : n_test + n_val])
        parts[0].extend(members[n_test + n_val :])
    return tuple(np.sort(np.asarray(p, dtype=np.int64)) for p in parts)  # type: ignore[return-value]


@dataclass(frozen=True)
class Standardizer:
    """Shift and scale fitted on training inputs, kept to apply to any later input."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, x_train: torch.Tensor, dims: tuple[int, ...]) -> "Standardizer":
        """Fit on ``x_train``, reducing over ``dims`` (e.g. ``(0, 2, 3)`` per image channel)."""
        mean = x_train.mean(dim=dims, keepdim=True)
        std = x_train.std(dim=dims, keepdim=True).clamp_min(STD_FLOOR)
        return cls(mean, std)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` shifted and scaled like the training inputs."""
        return (x - self.mean) / self.std


def standardize(split: Split, dims: tuple[int, ...]) -> Split:
    """Return ``split`` with inputs shifted and scaled to zero mean, unit variance.

    Statistics come from the training inputs only, reduced over ``dims`` (e.g. ``(0, 2, 3)``
    for per-channel image statistics).
    """
    return apply_standardizer(split, Standardizer.fit(split.x_train, dims))


def apply_standardizer(split: Split, standardizer: Standardizer) -> Split:
    """Return ``split`` with every part's inputs passed through ``standardizer``."""
    return Split(
        standardizer(split.x_train),
        split.y_train,
        standardizer(split.x_val),
        split.y_val,
        standardizer(split.x_test),
        split.y_test,
    )


class SplitDataModule(pl.LightningDataModule):
    """A LightningDataModule over an in-memory :class:`Split`.

    Training batches are shuffled by a generator seeded per trial; validation, test and
    predict loaders keep the order, so predictions of different trials line up.
    """

    def __init__(self, split: Split, batch_size: int, seed: int) -> None:
        """Serve ``split`` in minibatches of ``batch_size``, shuffled from ``seed``."""
        super().__init__()
        self.split = split
        self.batch_size = batch_size
        self.seed = seed

    def train_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Return shuffled training minibatches."""
        generator = torch.Generator().manual_seed(self.seed)
        dataset = TensorDataset(self.split.x_train, self.split.y_train)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=True, generator=generator)

    def val_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Return validation minibatches in a fixed order."""
        return self._ordered(self.split.x_val, self.split.y_val)

    def test_dataloader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        """Return test minibatches in a fixed order."""
        return self._ordered(self.split.x_test, self.split.y_test)

    def _ordered(self, x: torch.Tensor, y: torch.Tensor) -> DataLoader[tuple[torch.Tensor, ...]]:
        return DataLoader(TensorDataset(x, y), batch_size=max(self.batch_size, 256))
