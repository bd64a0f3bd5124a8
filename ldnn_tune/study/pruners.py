"""The Optuna pruners that ``pruner=`` names: a registry of factories of the epoch budget.

Every pruner's resource is the epoch: a trial reports its validation loss once per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optuna loads when a pruner is built, not when names are validated
    from optuna.pruners import BasePruner


def _median(max_epochs: int) -> BasePruner:
    from optuna.pruners import MedianPruner

    from ldnn_tune.study.pruner_snapshot import CompleteTrialsSnapshot

    return CompleteTrialsSnapshot(MedianPruner(n_startup_trials=3, n_warmup_steps=1))


def _hyperband(max_epochs: int) -> BasePruner:
    from optuna.pruners import HyperbandPruner

    return HyperbandPruner(min_resource=1, max_resource=max_epochs)


def _successive_halving(max_epochs: int) -> BasePruner:
    from optuna.pruners import SuccessiveHalvingPruner

    return SuccessiveHalvingPruner(min_resource=1)


def _none(max_epochs: int) -> BasePruner:
    from optuna.pruners import NopPruner

    return NopPruner()


PRUNERS: dict[str, Callable[[int], BasePruner]] = {
    "median": _median,
    "hyperband": _hyperband,
    "sha": _successive_halving,
    "none": _none,
}


def make_pruner(name: str, max_epochs: int) -> BasePruner:
    """Return the pruner registered as ``name`` for trials of up to ``max_epochs`` epochs."""
    return PRUNERS[name](max_epochs)
