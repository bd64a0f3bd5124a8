"""The Optuna samplers that ``sampler=`` names: a registry of factories of the study seed."""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optuna loads when a sampler is built, not when names are validated
    from optuna.samplers import BaseSampler
    from optuna.trial import FrozenTrial


def _tpe(seed: int) -> BaseSampler:
    from optuna.samplers import TPESampler

    return TPESampler(seed=seed)


def _random(seed: int) -> BaseSampler:
    from optuna.samplers import RandomSampler

    return RandomSampler(seed=seed)


def _cmaes(seed: int) -> BaseSampler:
    from optuna.samplers import CmaEsSampler, TPESampler

    # CMA-ES models only the numeric knobs every trial has; Optuna draws the others (init,
    # model, conditional knobs) at random unless given a sampler that learns them.
    return CmaEsSampler(
        seed=seed, independent_sampler=TPESampler(seed=seed), warn_independent_sampling=False
    )


def _gp(seed: int) -> BaseSampler:
    from optuna.samplers import GPSampler

    return GPSampler(seed=seed)


def _qmc(seed: int) -> BaseSampler:
    from optuna.exceptions import ExperimentalWarning
    from optuna.samplers import QMCSampler

    with warnings.catch_warnings():  # the user chose it: "experimental" is Optuna's note
        warnings.simplefilter("ignore", ExperimentalWarning)
        # scrambled: an unscrambled Sobol sequence is the same whatever the seed
        return QMCSampler(scramble=True, seed=seed, warn_independent_sampling=False)


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


def sampler_seed(
    seed: int,
    trials: Sequence[FrozenTrial],
    worker: int,
    process: str,
    creator: str | None = None,
) -> int:
    """Return the seed of the sampler a process opening a study with ``trials`` should use.

    Samplers seeded alike draw alike, so only a new study's first process (no trial begun,
    ``worker`` 0, and the study set up by this ``process``, its ``creator``) takes ``seed``
    as it is: a continued study would otherwise repeat its first invocation's knob sets,
    and the ``n_jobs`` workers, or a command started beside the one that made the study,
    each other's. Any other process mixes in the number of trials begun and its worker
    number, and, while other workers may be running trials (some running, or none begun
    in a study another process made), its own name ``process`` (``host:pid:start``): a
    continuation run alone draws the same on every machine, concurrent workers draw apart.
    """
    from numpy.random import SeedSequence
    from optuna.trial import TrialState

    begun = [t for t in trials if t.state is not TrialState.WAITING]
    made_elsewhere = creator is not None and creator != process
    if not begun and worker == 0 and not made_elsewhere:
        return seed
    material = [seed, len(begun), worker]
    if any(t.state is TrialState.RUNNING for t in begun) or (not begun and made_elsewhere):
        material.append(zlib.crc32(process.encode()))
    return int(SeedSequence(material).generate_state(1)[0])
