"""BoringTask: a tiny, fast, real task for tests (Gaussian blobs, a two-layer MLP)."""

import dataclasses
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn

from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.data import Split, SplitDataModule, Standardizer, split_indices, standardize
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.module import RecipeModule
from ldnn_tune.space.domains import Domain, positive

BORING_SPACE = Path(__file__).with_name("boring.yaml")


@dataclass(frozen=True)
class BoringOptions:
    """Size of the generated data set."""

    samples: int = 300
    features: int = 8
    classes: int = 3
    # a regression task instead: a smooth function of the point, in units of about
    # 100 +- 20, standardised for training and mapped back by target_transform()
    regression: bool = False

    def __post_init__(self) -> None:
        if self.samples < 30:
            raise ValueError(f"samples={self.samples} is too small; need at least 30")
        if self.classes < 2:
            raise ValueError(f"classes={self.classes} must be at least 2")


class BoringTask(Task[BoringOptions]):
    """Separable Gaussian blobs with an offset and scale, so standardisation matters.

    With ``regression=True`` the target is a real value in its own units instead of the
    blob, and the task standardises it (its ``target_transform()``).
    """

    name = "boring"
    description = "Gaussian blobs and a small MLP: the test task"
    options_type = BoringOptions
    targets: Standardizer | None = None  # regression: the targets' standardisation

    def __init__(self, options: BoringOptions, data_dir: Path | None, seed: int) -> None:
        """Keep the options; ``regression`` makes this a regression task."""
        super().__init__(options, data_dir, seed)
        if options.regression:
            self.kind = TaskKind.REGRESSION

    def search_space(self) -> Path | Traversable:
        """Return the boring task's knobs (hidden width)."""
        return BORING_SPACE

    def knob_domains(self) -> dict[str, Domain]:
        """Return what the MLP accepts: a whole, positive width."""
        return {"width": positive(integer=True)}

    def prepare(self) -> None:
        """Generate the blobs for the study seed and split them."""
        if self.data_dir is not None:
            raise UsageError(
                f"task boring generates its data; it takes no data_dir ({self.data_dir})"
            )
        opts = self.options
        rng = np.random.default_rng(self.seed)
        centres = rng.normal(0, 3, size=(opts.classes, opts.features))
        labels = np.arange(opts.samples) % opts.classes
        x = centres[labels] + rng.normal(0, 1, size=(opts.samples, opts.features))
        x = 50.0 + 10.0 * x  # far from zero mean and unit variance on purpose
        train, val, test = split_indices(labels, self.seed)
        xt = torch.tensor(x, dtype=torch.float32)
        yt = torch.tensor(labels, dtype=torch.long)
        if opts.regression:
            direction = rng.normal(0, 1, size=opts.features) / np.sqrt(opts.features)
            t = np.tanh(((x - x.mean(axis=0)) / x.std(axis=0)) @ direction)
            yt = torch.tensor(
                100.0 + 20.0 * t + rng.normal(0, 0.5, size=len(t)), dtype=torch.float32
            )
        split = standardize(
            Split(xt[train], yt[train], xt[val], yt[val], xt[test], yt[test]), dims=(0,)
        )
        if opts.regression:
            self.targets = scale = Standardizer.fit(split.y_train, dims=(0,))
            split = dataclasses.replace(
                split,
                y_train=scale(split.y_train),
                y_val=scale(split.y_val),
                y_test=scale(split.y_test),
            )
        self.split = split

    def target_transform(self) -> Standardizer | None:
        """Return the targets' standardisation (regression), or None."""
        return self.targets

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared split in minibatches."""
        return SplitDataModule(self.split, hp.recipe.batch_size)

    def model(self, hp: HParams) -> pl.LightningModule:
        """Return a two-layer MLP with dropout wrapped in the recipe."""
        opts = self.options
        width = hp.get_int("width")
        net = nn.Sequential(
            nn.Linear(opts.features, width),
            nn.ReLU(),
            nn.Dropout(hp.recipe.dropout),
            nn.Linear(width, 1 if opts.regression else opts.classes),
        )
        return RecipeModule(net, hp.recipe, kind=self.kind)
