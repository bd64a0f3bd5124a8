"""ldnn-tune: tune deep nets by the recipe of "A Brief Overview of Deep Learning".

The public API, for plugin authors and for programs that embed ldnn-tune. Names load
lazily on first use (PEP 562), so ``import ldnn_tune`` and the command line start without
torch, Lightning or MLflow; ``from ldnn_tune import RecipeModule`` loads what it needs.

Writing a task: :class:`Task`, :class:`TaskKind`, :class:`NoOptions`, :data:`hookimpl`,
:class:`HParams`, :class:`Recipe`, :class:`RecipeModule`, the data helpers
(:class:`Split`, :class:`SplitDataModule`, :class:`Standardizer`, :func:`standardize`,
:func:`apply_standardizer`, :func:`split_indices`), :func:`apply_init`, :func:`init_std`,
the knob domains (:class:`Domain`, :func:`positive`, :func:`unit_interval`),
:func:`gpu_available` (whether trials will train on a CUDA GPU, to size defaults by),
:func:`cache_root` (where to keep what the task can rebuild), :class:`TextCodec` (a
character model's vocabulary, for ``ldnn-tune generate``) and :class:`UsageError`.

Using a saved ensemble: :func:`load_ensemble` (a bundle folder or an ensemble's MLflow
run), :func:`predict_files` and :class:`LoadedEnsemble`.

Embedding: :func:`train_trial` (one trial's training, what ``run`` does per trial),
:class:`TrialOutcome`, :func:`task_space` (a task's effective search space),
:func:`run_checks` (the pre-flight), :class:`HealthMonitor` and :class:`HealthBand`,
:func:`make_storage` (an Optuna storage from a URL) and :func:`quiet_frameworks`.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ldnn_tune.cache import cache_root as cache_root
    from ldnn_tune.console.quiet import quiet_frameworks as quiet_frameworks
    from ldnn_tune.ensembles.bundle import LoadedEnsemble as LoadedEnsemble
    from ldnn_tune.ensembles.use import load_ensemble as load_ensemble
    from ldnn_tune.ensembles.use import predict_files as predict_files
    from ldnn_tune.errors import UsageError as UsageError
    from ldnn_tune.health.checks import CheckResult as CheckResult
    from ldnn_tune.health.checks import run_checks as run_checks
    from ldnn_tune.health.monitor import HealthBand as HealthBand
    from ldnn_tune.health.monitor import HealthMonitor as HealthMonitor
    from ldnn_tune.plugin.codec import TextCodec as TextCodec
    from ldnn_tune.plugin.spec import hookimpl as hookimpl
    from ldnn_tune.plugin.task import NoOptions as NoOptions
    from ldnn_tune.plugin.task import Task as Task
    from ldnn_tune.plugin.task import TaskKind as TaskKind
    from ldnn_tune.recipe.data import (
        Split as Split,
    )
    from ldnn_tune.recipe.data import (
        SplitDataModule as SplitDataModule,
    )
    from ldnn_tune.recipe.data import (
        Standardizer as Standardizer,
    )
    from ldnn_tune.recipe.data import (
        apply_standardizer as apply_standardizer,
    )
    from ldnn_tune.recipe.data import (
        split_indices as split_indices,
    )
    from ldnn_tune.recipe.data import (
        standardize as standardize,
    )
    from ldnn_tune.recipe.hparams import HParams as HParams
    from ldnn_tune.recipe.hparams import Recipe as Recipe
    from ldnn_tune.recipe.init import apply_init as apply_init
    from ldnn_tune.recipe.init import init_std as init_std
    from ldnn_tune.recipe.module import RecipeModule as RecipeModule
    from ldnn_tune.space.domains import Domain as Domain
    from ldnn_tune.space.domains import positive as positive
    from ldnn_tune.space.domains import unit_interval as unit_interval
    from ldnn_tune.space.load import task_space as task_space
    from ldnn_tune.study.storages import make_storage as make_storage
    from ldnn_tune.trial.device import gpu_available as gpu_available
    from ldnn_tune.trial.training import TrialOutcome as TrialOutcome
    from ldnn_tune.trial.training import train_trial as train_trial

_HOMES = {
    "CheckResult": "ldnn_tune.health.checks",
    "Domain": "ldnn_tune.space.domains",
    "HParams": "ldnn_tune.recipe.hparams",
    "HealthBand": "ldnn_tune.health.monitor",
    "HealthMonitor": "ldnn_tune.health.monitor",
    "LoadedEnsemble": "ldnn_tune.ensembles.bundle",
    "NoOptions": "ldnn_tune.plugin.task",
    "Recipe": "ldnn_tune.recipe.hparams",
    "RecipeModule": "ldnn_tune.recipe.module",
    "Split": "ldnn_tune.recipe.data",
    "SplitDataModule": "ldnn_tune.recipe.data",
    "Standardizer": "ldnn_tune.recipe.data",
    "Task": "ldnn_tune.plugin.task",
    "TaskKind": "ldnn_tune.plugin.task",
    "TextCodec": "ldnn_tune.plugin.codec",
    "TrialOutcome": "ldnn_tune.trial.training",
    "UsageError": "ldnn_tune.errors",
    "apply_init": "ldnn_tune.recipe.init",
    "apply_standardizer": "ldnn_tune.recipe.data",
    "cache_root": "ldnn_tune.cache",
    "gpu_available": "ldnn_tune.trial.device",
    "hookimpl": "ldnn_tune.plugin.spec",
    "init_std": "ldnn_tune.recipe.init",
    "load_ensemble": "ldnn_tune.ensembles.use",
    "make_storage": "ldnn_tune.study.storages",
    "positive": "ldnn_tune.space.domains",
    "predict_files": "ldnn_tune.ensembles.use",
    "quiet_frameworks": "ldnn_tune.console.quiet",
    "run_checks": "ldnn_tune.health.checks",
    "split_indices": "ldnn_tune.recipe.data",
    "standardize": "ldnn_tune.recipe.data",
    "task_space": "ldnn_tune.space.load",
    "train_trial": "ldnn_tune.trial.training",
    "unit_interval": "ldnn_tune.space.domains",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Import public name ``name`` from its home module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'ldnn_tune' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names."""
    return __all__
