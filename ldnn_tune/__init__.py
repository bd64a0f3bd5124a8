"""ldnn-tune: tune deep nets by the recipe of "A Brief Overview of Deep Learning".

Public names for plugin authors and programs that embed ldnn-tune.
"""

from ldnn_tune.data import (
    Split,
    SplitDataModule,
    Standardizer,
    apply_standardizer,
    split_indices,
    standardize,
)
from ldnn_tune.errors import UsageError
from ldnn_tune.hookspecs import hookimpl
from ldnn_tune.hparams import HParams, Recipe
from ldnn_tune.knobs import apply_init, init_std
from ldnn_tune.model import RecipeModule
from ldnn_tune.task import NoOptions, Task, TaskKind

__all__ = [
    "HParams",
    "NoOptions",
    "Recipe",
    "RecipeModule",
    "Split",
    "SplitDataModule",
    "Standardizer",
    "Task",
    "TaskKind",
    "UsageError",
    "apply_init",
    "apply_standardizer",
    "hookimpl",
    "init_std",
    "split_indices",
    "standardize",
]
