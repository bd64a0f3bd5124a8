"""The Optuna samplers that ``sampler=`` names: a registry of factories of the study seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optuna loads when a sampler is built, not when names are validated
    from optuna.samplers import BaseSampler


def _tpe(seed: int) -> BaseSampler:
    from optuna.samplers import TPESampler

    return TPESampler(seed=seed)


def _random(seed: int) -> BaseSampler:
    from optuna.samplers import RandomSampler

    return RandomSampler(seed=seed)


def _cmaes(seed: int) -> BaseSampler:
    from optuna.samplers import CmaEsSampler

    return CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _gp(seed: int) -> BaseSampler:
    from optuna.samplers import GPSampler

    return GPSampler(seed=seed)


def _qmc(seed: int) -> BaseSampler:
    from optuna.samplers import QMCSampler

    return QMCSampler(seed=seed, warn_independent_sampling=False)


SAMPLERS: dict[str, Callable[[int], BaseSampler]] = {
    "tpe": _tpe,
    "random": _random,
    "cmaes": _cmaes,
    "gp": _gp,
    "qmc": _qmc,
}


def make_sampler(name: str, seed: int) -> BaseSampler:
    """Return the sampler registered as ``name``, seeded with ``seed``."""
    return SAMPLERS[name](seed)
