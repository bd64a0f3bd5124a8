"""``ldnn-tune run``: resolve the words, run the quick pre-flight for a new study, run it."""

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.config.stores import (
    JOURNAL_PREFIX,
    check_data_apart,
    check_mlflow,
    check_storage,
    check_stores_apart,
)
from ldnn_tune.errors import EXIT_OK, CommandFailed
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.study.clock import RunClock, command_started

if TYPE_CHECKING:  # optuna loads with the study, after the words are checked
    import optuna


def main(words: Sequence[str], console: Console) -> int:
    """Run a study (after the quick pre-flight, when it is new).

    Torch, Lightning, Optuna's storages and MLflow load only once the words are valid.
    """
    host = Host(get_plugin_manager())
    run = resolve_run(words, host, prepare=False)
    config = run.config
    check_storage(config.storage)
    check_mlflow(config.mlflow)
    check_stores_apart(config.storage, config.mlflow)  # each a store of its own kind, or new
    check_data_apart(config.data_dir, config.storage, config.mlflow)
    if config.storage.startswith(JOURNAL_PREFIX):
        from ldnn_tune.study.storages import mend_journal

        note = mend_journal(Path(config.storage.removeprefix(JOURNAL_PREFIX)))
        if note is not None:
            console.print(note, markup=False, soft_wrap=True)
    from ldnn_tune.study.open import study_set_up

    # refused before the data and the pre-flight; a study that exists only notes it
    if config.warm_start is not None and not study_set_up(config.study_name, config.storage):
        from ldnn_tune.study.warm_start import load_warm_start

        kind = str(run.task.kind)
        load_warm_start(config.warm_start, config.storage, run.task.name, run.space, kind=kind)
    run.prepare()
    clock = RunClock(command_started(), config.timeout_seconds)
    from ldnn_tune.health.outputs import check_run_outputs, check_trial_callbacks
    from ldnn_tune.health.preflight import preflight
    from ldnn_tune.study.optimize import run_study

    clock.phases["startup"] = time.time() - clock.started
    check_run_outputs(run)  # a model that does not fit its targets is the plugin's bug
    check_trial_callbacks(run, host)
    if config.check and not study_set_up(config.study_name, config.storage):
        with clock.phase("preflight"):
            passed = preflight(run, console, quick_only=True)
        if not passed:
            raise CommandFailed(
                "not starting the study; fix the task or its data (the failed check says "
                "what), or skip the checks with check=false"
            )
    study = run_study(run, host, console, clock)
    check_outcome(study, config.trials, config.timeout, clock.started)
    return EXIT_OK


def check_outcome(study: "optuna.Study", trials: int, timeout: str | None, started: float) -> None:
    """Raise CommandFailed when a ``run`` started at ``started`` left ``study`` with no use.

    That is when the search ran all its ``trials`` and none completed, or when the
    timeout ran out before any trial finished while the command ran (nor runs on in
    another worker): the same command would stall the same way. The error line goes to
    stderr, below what the command printed of why (the check table, the trials' lines).
    """
    from ldnn_tune.study.queries import best_trials, finished_search_trials, stalled_since

    if finished_search_trials(study) >= trials:
        if not best_trials(study, 1):
            raise CommandFailed(
                f"none of the study's {trials} trials completed: each was pruned (the reasons "
                "are above), so there is no net to ensemble or predict with"
            )
    elif timeout is not None and stalled_since(study, started):
        raise CommandFailed(
            f"timeout {timeout} ran out before a trial finished (the command ran "
            f"{time.time() - started:.0f} s): give a longer timeout"
        )
