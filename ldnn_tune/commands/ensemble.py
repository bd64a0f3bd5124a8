"""``ldnn-tune ensemble``: ensemble an existing study's best trials and log it to MLflow."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from ldnn_tune.config.settings import EnsembleConfig
from ldnn_tune.config.stores import check_mlflow, check_storage
from ldnn_tune.config.words import parse_words, split_words
from ldnn_tune.errors import EXIT_OK, UsageError
from ldnn_tune.names import ENSEMBLE_USE_ATTR, IDENTITY_ATTR


def main(words: Sequence[str], console: Console) -> int:
    """Ensemble the best trials of an existing study, or the trials named, and log it to MLflow."""
    config = parse_words(EnsembleConfig, words)
    refuse_ignored_beside_trials(config, words)
    check_storage(config.storage, read_only=True)
    check_mlflow(config.mlflow, read_only=True)
    from ldnn_tune.console.quiet import quiet_frameworks
    from ldnn_tune.console.tables import print_ensemble
    from ldnn_tune.ensembles.from_study import ensemble_study
    from ldnn_tune.study.open import load_existing_study
    from ldnn_tune.tracking import StudyTracker, require_parent_run, restored_note

    quiet_frameworks()
    study = load_existing_study(config.study, config.storage)
    require_parent_run(config.mlflow, study)
    tracker = StudyTracker(config.mlflow, experiment=config.study)
    if tracker.restored:  # its runs hold the members: the ensemble run goes there too
        note = restored_note(config.study, "for the ensemble's run, beside its members'")
        console.print(note, markup=False, soft_wrap=True)
    method = config.ensemble_method()
    comparison = ensemble_study(study, tracker, config.top_k, method, config.named_trials())
    use = study.user_attrs.get(ENSEMBLE_USE_ATTR)  # recorded by run; older studies lack it
    if use is None:
        use = ensemble_use_of(study.user_attrs.get(IDENTITY_ATTR, {}))
    print_ensemble(console, comparison, config.top_k, [method], use, config.mlflow)
    return EXIT_OK


def refuse_ignored_beside_trials(config: EnsembleConfig, words: Sequence[str]) -> None:
    """Refuse ``method=`` and ``top_k=`` beside ``trials=``: the named trials are the members.

    Either would be ignored (even ``method=seeds``, the default), so the user is told to
    drop it rather than get an ensemble other than the one they asked for.
    """
    if not config.named_trials():
        return
    given = split_words(words)
    for key in ("method", "top_k"):
        if key in given:
            raise UsageError(f"trials= names the members itself; drop {key}={given[key]}")


def ensemble_use_of(identity: Mapping[str, Any]) -> str:
    """Return the command that runs the ensembles of the older study of ``identity`` (a hint).

    ``predict`` for a task that reads input files (or one not installed); ``generate``
    for one whose task, rebuilt as the study made it, predicts characters; else "".
    """
    from ldnn_tune.ensembles.bundle import stored_options
    from ldnn_tune.plugin.manager import Host, get_plugin_manager
    from ldnn_tune.plugin.task import ensemble_use, generates_text, reads_input_files

    entry = Host(get_plugin_manager()).tasks().get(str(identity.get("task")))
    if entry is None or reads_input_files(entry.task):
        return "predict"
    if not generates_text(entry.task):
        return ""
    data_dir = identity.get("data_dir")
    try:  # only to say which command comes next: a task that cannot be rebuilt gets none
        options = stored_options(identity.get("options", {}), entry.task, entry.package)
        task = entry.task(options, Path(data_dir) if data_dir else None, identity.get("seed", 0))
        task.prepare()
        return ensemble_use(task)
    except Exception:
        return ""
