"""Open or create the Optuna study: storage, sampler, pruner, identity checks, first trial."""

import time
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.study import StudyDirection

from ldnn_tune.errors import UsageError, did_you_mean, disk_full
from ldnn_tune.mlflow_paths import sqlite_file
from ldnn_tune.names import CREATOR_ATTR, IDENTITY_ATTR
from ldnn_tune.space.knobs import SearchSpace
from ldnn_tune.sqlite import remove_database_files
from ldnn_tune.study.recovery import dead_here, this_worker
from ldnn_tune.study.storages import describe_error, make_storage
from ldnn_tune.urls import redact

SQLITE_PREFIX = "sqlite:///"
CREATOR_GRACE_SECONDS = 2.0  # a new study names its creator within milliseconds
OBJECTIVE_NAME = "val_loss"  # what every trial's value is: its best validation loss


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
        hint = did_you_mean(name, names)
        raise UsageError(f"unknown study {name!r}{hint} in {redact(storage_url)}; studies: {known}")
    return optuna.load_study(study_name=name, storage=storage)


def _new_sqlite_file(storage_url: str) -> Path | None:
    """Return the file of an SQLite storage that does not exist yet, else None."""
    path = sqlite_file(storage_url.split("?")[0])  # its query does not name the file
    return None if path is None or path.exists() else path


def open_study(
    name: str,
    storage_url: str,
    pruner: optuna.pruners.BasePruner,
    identity: Mapping[str, Any],
    space: SearchSpace,
    heartbeat: int | None = None,
    on_create: Callable[[optuna.Study], None] | None = None,
    first: Sequence[Mapping[str, Any]] = (),
    option_defaults: Mapping[str, str] | None = None,
    locations: Collection[str] = (),
) -> optuna.Study:
    """Load study ``name`` or create it; a new study queues ``first``, then ``space``'s defaults.

    The study's sampler is Optuna's default until the caller sets ``study.sampler``: how
    it is seeded depends on the trials found here.

    ``identity`` (task, seed, task options) is stored with a new study; continuing a study
    with a different identity or direction is refused, since its trials would not be
    comparable; an option the stored identity lacks matches its ``option_defaults`` value,
    and the options in ``locations`` (where a cache is kept) may change.
    Of several workers starting at once exactly one creates the study (the
    storage refuses a second study of the same name) and runs ``on_create`` on it before
    writing the identity; the others wait for the identity, so see what ``on_create`` wrote.
    """
    made = _new_sqlite_file(storage_url)
    try:
        storage = make_storage(storage_url, heartbeat)
        study, created = _create_or_load(name, storage, pruner)
    except UsageError:
        raise
    except Exception as exc:  # a bad URL, refused connection or wrong credentials
        if disk_full(exc) is None:
            raise UsageError(describe_error(storage_url, exc)) from None
        if made is not None:  # a full disk: the file it began is no store (the CLI says why)
            remove_database_files(made)
        raise
    if not created:
        check_direction(study)
        stored = wait_for_identity(study)
        trials = study.get_trials(deepcopy=False) if stored is None else []
        if trials:  # ldnn-tune writes the identity before any trial
            raise UsageError(
                f"study {name!r} in {redact(storage_url)} was not made by ldnn-tune: it has "
                f"{len(trials)} trial(s) of another objective; give another study= name"
            )
        if stored is not None:
            check_identity(name, stored, identity, option_defaults or {}, locations)
            moved = _moved(stored, identity, locations)
            if moved != stored:  # its ensembles and their bundles look where things are now
                study.set_user_attr(IDENTITY_ATTR, moved)
            name_objective(study)  # a study made before objectives were named
            return study
    # others wait while this process lives; a study it leaves half made, another sets up
    study.set_user_attr(CREATOR_ATTR, this_worker())
    name_objective(study)
    if on_create is not None:
        on_create(study)
    study.set_user_attr(IDENTITY_ATTR, dict(identity))
    if not study.get_trials(deepcopy=False):
        for params in [*first, space.defaults()]:
            study.enqueue_trial(dict(params), skip_if_exists=True)
    return study


def _create_or_load(
    name: str,
    storage: optuna.storages.BaseStorage,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, bool]:
    kwargs: dict[str, Any] = {"storage": storage, "pruner": pruner}
    try:
        return optuna.create_study(study_name=name, direction="minimize", **kwargs), True
    except DuplicatedStudyError:
        return optuna.load_study(study_name=name, **kwargs), False


def name_objective(study: optuna.Study) -> None:
    """Name ``study``'s objective ``val_loss`` (once): optuna-dashboard shows it by that name.

    Without a name the dashboard and ``trials_dataframe`` call it "Objective 0" and
    ``value``; with it, ``val_loss`` and ``value_val_loss``.
    """
    if study.metric_names is None:
        with warnings.catch_warnings():  # experimental since Optuna 3.2, and stable in use
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([OBJECTIVE_NAME])


def check_direction(study: optuna.Study) -> None:
    """Raise a UsageError unless ``study`` minimises one objective, as ldnn-tune's do."""
    if study.directions != [StudyDirection.MINIMIZE]:
        found = ", ".join(d.name.lower() for d in study.directions)
        raise UsageError(
            f"study {study.study_name!r} has direction {found}, not minimize (validation loss); "
            "use another study= name"
        )


def wait_for_identity(study: optuna.Study, seconds: float = 30) -> Any:
    """Return ``study``'s identity attr, or None for a study no ldnn-tune process sets up.

    A study without trials may be a new one whose creator is still writing its attrs
    (it writes the identity before enqueueing trial 0): wait up to ``seconds`` for it,
    while the creator lives. A creator that died here (stopped mid-set-up), or none named
    after a moment (a study made by other means), is not waited for.
    """
    started = time.monotonic()
    while True:
        attrs = study.user_attrs
        if IDENTITY_ATTR in attrs:
            return attrs[IDENTITY_ATTR]
        waited = time.monotonic() - started
        creator = attrs.get(CREATOR_ATTR)
        if (
            study.get_trials(deepcopy=False)
            or waited > seconds
            or (creator is None and waited > CREATOR_GRACE_SECONDS)
            or (creator is not None and dead_here(str(creator)))
        ):
            return None
        time.sleep(0.25)


def check_identity(
    name: str,
    stored: Mapping[str, Any],
    wanted: Mapping[str, Any],
    option_defaults: Mapping[str, str],
    locations: Collection[str] = (),
) -> None:
    """Raise a UsageError when study ``name`` was created with a different task or setup.

    An option added to the task after the study was made is missing from its stored
    options; it matches when it is at its default (``option_defaults``). A key added to
    the identity since (``data_files``) is not compared. A ``data_dir`` at another path
    matches when its files are the same: the folder moved, with the study's or alone.
    The options named in ``locations`` say only where something is kept: not compared.
    """
    options = _compared_options(
        stored.get("options"), wanted.get("options"), option_defaults, locations
    )
    options_differ = "options" in stored and "options" in wanted and options[0] != options[1]
    # data_dir before the options: continued without it, options that follow from it differ
    first = {"task": 0, "kind": 1, "data_dir": 2}
    for key, value in sorted(wanted.items(), key=lambda item: first.get(item[0], 3)):
        if key not in stored or (key == "data_dir" and _same_files(stored, wanted)):
            continue
        have = stored.get(key)
        if key == "options":
            have, value = options
        if have != value:
            if key == "kind" and options_differ:
                continue  # the options that made the kind differ are named in their turn
            raise UsageError(
                f"study {name!r} was created with {_difference(key, have, value)}; "
                "use another study= name or the original settings"
            )


def _compared_options(
    have: Any, value: Any, option_defaults: Mapping[str, str], locations: Collection[str]
) -> tuple[Any, Any]:
    """Return stored and wanted options as compared: added ones at their default, no locations.

    Anything but two dicts is returned as it is.
    """
    if not isinstance(have, dict) or not isinstance(value, dict):
        return have, value
    added = {k: option_defaults[k] for k in value if k not in have and k in option_defaults}
    have = {k: v for k, v in {**have, **added}.items() if k not in locations}
    return have, {k: v for k, v in value.items() if k not in locations}


def _moved(
    stored: Mapping[str, Any], identity: Mapping[str, Any], locations: Collection[str]
) -> dict[str, Any]:
    """Return the stored identity with ``data_dir`` and the ``locations`` options as now.

    Only keys the stored identity has change: a key it lacks is not compared (older
    studies), and must stay so.
    """
    moved = dict(stored)
    if "data_dir" in stored:
        moved["data_dir"] = identity.get("data_dir")
    if isinstance(stored.get("options"), dict):
        wanted = identity.get("options") or {}
        now = {k: wanted[k] for k in locations if k in wanted and k in stored["options"]}
        moved["options"] = {**stored["options"], **now}
    return moved


def _difference(key: str, have: Any, wanted: Any) -> str:
    """Return what differs, e.g. ``length=50, not 60``; of the options, only those that do.

    ``kind`` is not typed by the user: it follows from the task's options (``problem=``).
    """
    if isinstance(have, dict) and isinstance(wanted, dict):
        changed = [k for k in {**have, **wanted} if have.get(k) != wanted.get(k)]
        return "; ".join(f"{k}={have.get(k)}, not {wanted.get(k)}" for k in changed)
    if key == "kind":
        return f"outputs of kind {have!r}, not {wanted!r} (another problem or task option)"
    if key == "data_files":
        return f"other data: the data_dir's files changed since ({have}; now {wanted})"
    if key == "data_contents":
        return (
            "other data: the data_dir's files changed since (edited in place, or in a symlinked "
            "folder)"
        )
    return f"{key}={have!r}, not {wanted!r}"


def _same_files(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Return whether both identities fingerprint their ``data_dir``'s files alike.

    By names and sizes: their contents, where the study recorded them, are compared as a
    key of their own, so an edit reads as an edit, wherever the folder is now.
    """
    return stored.get("data_files") is not None and stored.get("data_files") == wanted.get(
        "data_files"
    )


def study_set_up(name: str, storage_url: str) -> bool:
    """Return whether study ``name`` exists with its identity: a study to continue.

    One left half made (stopped before its identity was written) is set up again, pre-flight
    included.
    """
    if not study_exists(name, storage_url):
        return False
    study = optuna.load_study(study_name=name, storage=make_storage(storage_url))
    return IDENTITY_ATTR in study.user_attrs


def study_exists(name: str, storage_url: str) -> bool:
    """Return whether study ``name`` exists, without creating a SQLite file that does not."""
    if (
        storage_url.startswith(SQLITE_PREFIX)
        and not Path(storage_url.removeprefix(SQLITE_PREFIX)).exists()
    ):
        return False
    try:
        return name in optuna.get_all_study_names(make_storage(storage_url))
    except Exception:  # unreachable storage: opening the study reports it properly
        return False
