"""Data helpers a task can reuse: seeded splits, train-only standardisation, a datamodule."""

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import lightning.pytorch as pl
import numpy as np
import torch

STD_FLOOR = 1e-6
EVAL_BATCH = 256  # validation and test batches hold at least this many examples


@dataclass(frozen=True)
class Split:
    """Inputs and targets of the train, validation and test parts of a data set."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def __post_init__(self) -> None:
        """Refuse a field that is not a tensor, and a part without examples or with unpaired ones.

        Raised in the task's ``prepare()``, the error names the task's plugin; found later,
        it would surface as a failure deep in the checks or in Lightning.
        """
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"Split.{field.name} must be a torch.Tensor, not {type(value).__name__} "
                    "(torch.as_tensor converts an array)"
                )
        for part in ("train", "val", "test"):
            inputs, targets = len(getattr(self, f"x_{part}")), len(getattr(self, f"y_{part}"))
            if inputs == 0:
                raise ValueError(f"the {part} part of the Split is empty (0 examples)")
            if inputs != targets:
                raise ValueError(
                    f"the {part} part of the Split has {inputs} inputs and {targets} targets"
                )


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
    """Shift and scale fitted on training data, kept to apply to any later data.

    Fitted on inputs, it standardises what ``read_inputs`` reads like the training inputs;
    fitted on regression targets, it is the task's ``target_transform()``, and
    :meth:`inverse` maps the model's outputs back to the target's units. With ``log1p``
    (the article's log(1+x) for values spanning orders of magnitude, such as prices) it
    takes ``log(1 + x)`` first, and :meth:`inverse` ends with ``exp(z) - 1``.
    """

    mean: torch.Tensor
    std: torch.Tensor
    log1p: bool = False

    @classmethod
    def fit(
        cls, x_train: torch.Tensor, dims: tuple[int, ...], log1p: bool = False
    ) -> "Standardizer":
        """Fit on ``x_train``, reducing over ``dims`` (e.g. ``(0, 2, 3)`` per image channel).

        ``log1p``: fit on ``log(1 + x_train)``, whose values must all be above -1.
        """
        if log1p:
            if bool((x_train <= -1).any()):
                raise ValueError("log1p needs values above -1; the data holds -1 or less")
            x_train = torch.log1p(x_train)
        mean = x_train.mean(dim=dims, keepdim=True)
        std = x_train.std(dim=dims, keepdim=True).clamp_min(STD_FLOOR)
        return cls(mean, std, log1p)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` shifted and scaled like the training inputs."""
        return ((torch.log1p(x) if self.log1p else x) - self.mean) / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Return standardised ``z`` in the original units, undoing :meth:`__call__`."""
        x = z * self.std + self.mean
        return torch.expm1(x) if self.log1p else x


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


class TensorBatches:
    """Minibatches sliced from in-memory tensors: what a DataLoader does, without its cost.

    A DataLoader over a TensorDataset fetches and stacks every example of a batch one by
    one; this takes one index slice per batch. With ``generator`` each pass over the data
    is a fresh shuffle drawn from it; without, batches keep the tensors' order.
    ``epoch_size`` (shuffled batches only) makes a pass yield that many examples: fresh
    shuffles of the data one after another, the last one cut.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        generator: torch.Generator | None = None,
        epoch_size: int | None = None,
    ) -> None:
        """Serve ``(x, y)`` in batches of ``batch_size`` (the last one may be smaller)."""
        if epoch_size is not None and generator is None:
            raise ValueError("epoch_size needs a generator: it draws shuffled passes")
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.generator = generator
        self.epoch_size = len(y) if epoch_size is None else epoch_size

    def __len__(self) -> int:
        """Return the number of batches in one pass."""
        return math.ceil(self.epoch_size / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(inputs, targets)`` batches of one pass."""
        if self.generator is None:
            for start in range(0, len(self.y), self.batch_size):
                yield (
                    self.x[start : start + self.batch_size],
                    self.y[start : start + self.batch_size],
                )
            return
        shuffles = [
            torch.randperm(len(self.y), generator=self.generator)
            for _ in range(math.ceil(self.epoch_size / len(self.y)))
        ]
        order = torch.cat(shuffles)[: self.epoch_size].to(self.x.device)
        for batch in order.split(self.batch_size):
            yield self.x[batch], self.y[batch]


class SplitDataModule(pl.LightningDataModule):
    """A LightningDataModule over an in-memory :class:`Split`.

    Training batches are reshuffled every epoch by a generator seeded from torch's global
    random state when the loader is made (``train_trial`` seeds it per trial), or from
    ``seed`` when given; validation, test and predict batches keep the order, so
    predictions of different trials line up. :meth:`to` moves the split to the training
    device once, so no batch is copied there step by step. ``epoch_size`` sets how many
    training examples an epoch draws (default: the training split's size), for a task whose
    trials train on subsets of different sizes but should train as long per epoch.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        seed: int | None = None,
        epoch_size: int | None = None,
    ) -> None:
        """Serve ``split`` in minibatches of ``batch_size``."""
        super().__init__()
        self.split = split
        self.batch_size = batch_size
        self.seed = seed
        self.epoch_size = epoch_size

    def to(self, device: torch.device) -> "SplitDataModule":
        """Move every tensor of the split to ``device``; return self."""
        self.split = Split(*(t.to(device) for t in dataclasses.astuple(self.split)))
        return self

    def train_dataloader(self) -> TensorBatches:
        """Return shuffled training minibatches."""
        seed = self.seed if self.seed is not None else int(torch.randint(2**62, ()))
        generator = torch.Generator().manual_seed(seed)
        x, y = self.split.x_train, self.split.y_train
        return TensorBatches(x, y, self.batch_size, generator, self.epoch_size)

    def val_dataloader(self) -> TensorBatches:
        """Return validation minibatches in a fixed order."""
        return self._ordered(self.split.x_val, self.split.y_val)

    def test_dataloader(self) -> TensorBatches:
        """Return test minibatches in a fixed order."""
        return self._ordered(self.split.x_test, self.split.y_test)

    def _ordered(self, x: torch.Tensor, y: torch.Tensor) -> TensorBatches:
        return TensorBatches(x, y, max(self.batch_size, EVAL_BATCH))
