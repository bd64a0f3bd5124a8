"""Open or create the Optuna study: storage, sampler, pruner, identity checks, first trial."""

import time
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.study import StudyDirection
from optuna.trial import TrialState

from ldnn_tune.errors import UsageError
from ldnn_tune.space.load import SearchSpace
from ldnn_tune.study.storages import describe_error, redact
from ldnn_tune.study.storages import make_storage as make_storage  # re-exported for callers

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
IDENTITY_ATTR = "ldnn_tune_identity"


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Return the Optuna sampler called ``name``, seeded with ``seed``."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
    raise UsageError(f"invalid sampler {name!r}")


def make_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """Return the Optuna pruner called ``name``; resources are epochs up to ``max_epochs``."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs)
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"invalid pruner {name!r}")


def load_existing_study(name: str, storage_url: str) -> optuna.Study:
    """Load study ``name`` or raise a UsageError naming the studies the storage holds."""
    try:
        storage = make_storage(storage_url)
        names = optuna.get_all_study_names(storage)
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(describe_error(storage_url, exc)) from None
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"unknown study {name!r} in {redact(storage_url)}; studies: {known}")
    return optuna.load_study(study_name=name, storage=storage)


def open_study(
    name: str,
    storage_url: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    identity: Mapping[str, Any],
    space: SearchSpace,
    heartbeat: int | None = None,
    on_create: Callable[[optuna.Study], None] | None = None,
) -> optuna.Study:
    """Load study ``name`` or create it; a new study gets ``space``'s defaults as trial 0.

    ``identity`` (task, seed, task options) is stored with a new study; continuing a study
    with a different identity or direction is refused, since its trials would not be
    comparable. Of several workers starting at once exactly one creates the study (the
    storage refuses a second study of the same name) and runs ``on_create`` on it before
    writing the identity; the others wait for the identity, so see what ``on_create`` wrote.
    """
    try:
        storage = make_storage(storage_url, heartbeat)
        study, created = _create_or_load(name, storage, sampler, pruner)
    except UsageError:
        raise
    except Exception as exc:  # a bad URL, refused connection or wrong credentials
        raise UsageError(describe_error(storage_url, exc)) from None
    if not created:
        check_direction(study)
        stored = wait_for_identity(study)
        if stored is not None:
            check_identity(name, stored, identity)
            return study
    if on_create is not None:
        on_create(study)
    study.set_user_attr(IDENTITY_ATTR, dict(identity))
    if not study.trials:
        study.enqueue_trial(space.defaults(), skip_if_exists=True)
    return study


def _create_or_load(
    name: str,
    storage: optuna.storages.BaseStorage,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, bool]:
    kwargs: dict[str, Any] = {"storage": storage, "sampler": sampler, "pruner": pruner}
    try:
        return optuna.create_study(study_name=name, direction="minimize", **kwargs), True
    except DuplicatedStudyError:
        return optuna.load_study(study_name=name, **kwargs), False


def check_direction(study: optuna.Study) -> None:
    """Raise a UsageError unless ``study`` minimises one objective, as ldnn-tune's do."""
    if study.directions != [StudyDirection.MINIMIZE]:
        found = ", ".join(d.name.lower() for d in study.directions)
        raise UsageError(
            f"study {study.study_name!r} has direction {found}, not minimize (validation loss); "
            "use another study= name"
        )


def wait_for_identity(study: optuna.Study, seconds: float = 30) -> Any:
    """Return ``study``'s identity attr, or None for a study ldnn-tune did not set up.

    A study without trials may be a new one whose creator is still writing its attrs
    (it writes the identity before enqueueing trial 0): wait up to ``seconds`` for it.
    """
    deadline = time.monotonic() + seconds
    while True:
        attrs = study.user_attrs
        if IDENTITY_ATTR in attrs:
            return attrs[IDENTITY_ATTR]
        if study.get_trials(deepcopy=False) or time.monotonic() > deadline:
            return None
        time.sleep(0.5)


def check_identity(name: str, stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """Raise a UsageError when study ``name`` was created with a different task or setup."""
    for key, value in wanted.items():
        if stored.get(key) != value:
            raise UsageError(
                f"study {name!r} was created with {key}={stored.get(key)!r}, not {value!r}; "
                "use another study= name or the original settings"
            )


def finished_trials(study: optuna.Study) -> int:
    """Return how many trials of ``study`` completed or were pruned."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))
