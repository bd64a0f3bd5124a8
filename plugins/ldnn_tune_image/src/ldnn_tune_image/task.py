"""The image task: data, augmentation and model for ``ldnn-tune run task=image``.

The module loads no torch, kornia or scikit-learn: ``ldnn-tune tasks`` and a mistyped
option are answered in a moment; the data and model modules load when a study needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ldnn_tune import Domain, HParams, Task, UsageError, positive, unit_interval
from ldnn_tune_image.suffixes import IMAGE_SUFFIXES

MAX_DEPTH = 8  # blocks, each doubling the channels: 12 took 23 GB and was killed

if TYPE_CHECKING:
    import lightning.pytorch as pl
    import torch

    from ldnn_tune import Split, Standardizer
    from ldnn_tune_image.data import ImageSet


@dataclass(frozen=True)
class ImageOptions:
    """Options of the image task (used when ``data_dir`` points at a folder of images)."""

    image_size: int = field(
        default=28, metadata={"help": "data_dir images are resized to this x this (4-512)"}
    )
    color: bool = field(default=False, metadata={"help": "read data_dir images as RGB, not grey"})

    def __post_init__(self) -> None:
        if not 4 <= self.image_size <= 512:
            raise ValueError(f"invalid image_size={self.image_size}: must be between 4 and 512")


class ImageTask(Task[ImageOptions]):
    """Classify images with a small CNN; digits by default, or ``data_dir``'s class folders."""

    name = "image"
    description = "image classification: scikit-learn digits, or data_dir=FOLDER of class folders"
    options_type = ImageOptions
    input_suffixes = IMAGE_SUFFIXES
    data_suffixes = IMAGE_SUFFIXES

    images: ImageSet
    standardizer: Standardizer
    split: Split

    def search_space(self) -> Path | Traversable:
        """Return the package's space.yaml: the CNN's shape, augmentation, scaled init."""
        return files("ldnn_tune_image") / "space.yaml"

    def knob_domains(self) -> dict[str, Domain]:
        """Return what the CNN accepts: whole sizes (hidden may be 0), a strength in [0, 1].

        Each block doubles the channels: 8 blocks of 32 are 4,096 channels already.
        """
        return {
            "width": positive(integer=True),
            "depth": Domain(low=0, low_open=True, high=MAX_DEPTH, integer=True),
            "convs": positive(integer=True),
            "hidden": Domain(low=0, integer=True),
            "aug_strength": unit_interval(),
        }

    def prepare(self) -> None:
        """Load the images, split them by the study seed, standardise with train statistics."""
        if getattr(self, "split", None) is not None:
            return
        import torch

        from ldnn_tune import Split, Standardizer, apply_standardizer, split_indices
        from ldnn_tune_image.data import load_digits_set, load_folder

        opts = self.options
        if self.data_dir is None:
            check_digits_options(opts)
        images = (
            load_folder(self.data_dir, opts.image_size, opts.color)
            if self.data_dir is not None
            else load_digits_set()
        )
        self.images = images
        train, val, test = split_indices(images.labels, self.seed)
        if min(len(train), len(val), len(test)) == 0:
            raise UsageError(
                f"data_dir {images.source!r} has too few images to split into train, "
                "validation and test; give each class at least 5"
            )
        x = torch.from_numpy(images.images)
        y = torch.from_numpy(images.labels)
        raw = Split(x[train], y[train], x[val], y[val], x[test], y[test])
        self.standardizer = Standardizer.fit(raw.x_train, dims=(0, 2, 3))
        self.split = apply_standardizer(raw, self.standardizer)

    def describe_data(self) -> str:
        """Return the data source and split sizes."""
        s = self.split
        line = (
            f"data: {self.images.source}, {len(self.images.classes)} classes, "
            f"{len(s.y_train)}/{len(s.y_val)}/{len(s.y_test)} train/val/test"
        )
        return f"{line}; {self.images.note}" if self.images.note else line

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        """Read image files like the training images, standardised with train statistics.

        For digits, images are shrunk to 8x8 grey with ink bright on a dark background,
        as in scikit-learn's set.
        """
        import numpy as np
        import torch

        from ldnn_tune_image.data import DIGITS_MAX, read_image

        _, channels, size, _ = self.split.x_train.shape
        if self.data_dir is None:
            arrays = [read_image(p, size, color=False) / 255.0 * DIGITS_MAX for p in paths]
        else:
            arrays = [read_image(p, size, color=channels == 3) for p in paths]
        return self.standardizer(torch.from_numpy(np.stack(arrays)))

    def class_names(self) -> list[str]:
        """Return the digit names or the data folder's class folder names."""
        return list(self.images.classes)

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared split in minibatches of the trial's batch size."""
        from ldnn_tune import SplitDataModule

        return SplitDataModule(self.split, hp.recipe.batch_size)

    def model(self, hp: HParams) -> pl.LightningModule:
        """Return a SmallCNN (width, depth, convs, hidden knobs) with kornia augmentation."""
        from ldnn_tune import RecipeModule
        from ldnn_tune_image.model import SmallCNN, make_augmentation

        _, channels, size, _ = self.split.x_train.shape
        net = SmallCNN(
            in_channels=channels,
            classes=len(self.images.classes),
            width=hp.get_int("width"),
            depth=hp.get_int("depth"),
            convs=hp.get_int("convs"),
            hidden=hp.get_int("hidden"),
            dropout=hp.recipe.dropout,
            size=size,
        )
        augment = make_augmentation(hp.get_float("aug_strength"))
        return RecipeModule(net, hp.recipe, kind=self.kind, augment=augment)


def check_digits_options(opts: ImageOptions) -> None:
    """Raise a UsageError for an option that only folders of images read, set for digits."""
    for name in ("image_size", "color"):
        value = getattr(opts, name)
        if value != getattr(ImageOptions(), name):
            raise UsageError(
                f"{name}={value} applies to data_dir=FOLDER images, not to the built-in 8x8 "
                f"grey digits; drop {name} or give data_dir"
            )
