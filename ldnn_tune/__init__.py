"""ldnn-tune: tune deep nets by the recipe of "A Brief Overview of Deep Learning".

Public names for plugin authors and programs that embed ldnn-tune.
"""

from ldnn_tune.errors import UsageError
from ldnn_tune.plugin.spec import hookimpl
from ldnn_tune.plugin.task import NoOptions, Task, TaskKind
from ldnn_tune.recipe.data import (
    Split,
    SplitDataModule,
    Standardizer,
    apply_standardizer,
    split_indices,
    standardize,
)
from ldnn_tune.recipe.hparams import HParams, Recipe
from ldnn_tune.recipe.init import apply_init, init_std
from ldnn_tune.recipe.module import RecipeModule

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
