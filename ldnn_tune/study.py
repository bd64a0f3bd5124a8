"""Open or create the Optuna study: storage, sampler, pruner, identity checks, first trial."""

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from ldnn_tune.errors import UsageError
from ldnn_tune.space import SearchSpace

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


def make_storage(url: str) -> str | BaseStorage:
    """Return an Optuna storage for ``url``: an RDB URL as is, or ``journal:PATH``."""
    if url.startswith("journal:"):
        path = url.removeprefix("journal:")
        if not path:
            raise UsageError("storage journal: needs a file path, e.g. storage=journal:study.log")
        return JournalStorage(JournalFileBackend(path))
    if "://" not in url:
        raise UsageError(
            f"invalid storage {url!r}; expected an Optuna storage URL such as "
            "sqlite:///ldnn_tune.db, postgresql://HOST/DB or journal:PATH"
        )
    return url


def load_existing_study(name: str, storage_url: str) -> optuna.Study:
    """Load study ``name`` or raise a UsageError naming the studies the storage holds."""
    storage = make_storage(storage_url)
    try:
        names = optuna.get_all_study_names(storage)
    except Exception as exc:
        raise UsageError(f"cannot open storage {storage_url!r}: {_first_line(exc)}") from None
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"unknown study {name!r} in {storage_url}; studies: {known}")
    return optuna.load_study(study_name=name, storage=storage)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_study(
    name: str,
    storage_url: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    identity: Mapping[str, Any],
    space: SearchSpace,
) -> optuna.Study:
    """Load study ``name`` or create it; a new study gets ``space``'s defaults as trial 0.

    ``identity`` (task, seed, task options) is stored with a new study; continuing a study
    with a different identity is refused, since its trials would not be comparable.
    """
    storage = make_storage(storage_url)
    try:
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            direction="minimize",
            load_if_exists=True,
        )
    except Exception as exc:  # a bad URL, refused connection or wrong credentials
        raise UsageError(f"cannot open storage {storage_url!r}: {_first_line(exc)}") from None
    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None:
        study.set_user_attr(IDENTITY_ATTR, dict(identity))
        if not study.trials:
            study.enqueue_trial(space.defaults(), skip_if_exists=True)
    else:
        check_identity(name, stored, identity)
    return study


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
