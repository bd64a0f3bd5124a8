"""``ldnn-tune ensemble``: ensemble an existing study's best trials and log it to MLflow."""

from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.config.settings import EnsembleConfig
from ldnn_tune.config.stores import check_mlflow, check_storage
from ldnn_tune.config.words import parse_words
from ldnn_tune.errors import EXIT_OK
from ldnn_tune.names import IDENTITY_ATTR


def main(words: Sequence[str], console: Console) -> int:
    """Ensemble the best trials of an existing study, or the trials named, and log it to MLflow."""
    config = parse_words(EnsembleConfig, words)
    check_storage(config.storage, read_only=True)
    check_mlflow(config.mlflow, read_only=True)
    from ldnn_tune.console.quiet import quiet_frameworks
    from ldnn_tune.console.tables import print_ensemble
    from ldnn_tune.ensembles.from_study import ensemble_study
    from ldnn_tune.study.open import load_existing_study
    from ldnn_tune.tracking import StudyTracker, require_parent_run

    quiet_frameworks()
    study = load_existing_study(config.study, config.storage)
    require_parent_run(config.mlflow, study)
    tracker = StudyTracker(config.mlflow, experiment=config.study)
    method = config.ensemble_method()
    comparison = ensemble_study(study, tracker, config.top_k, method, config.named_trials())
    predicts = predicts_from_files(study.user_attrs.get(IDENTITY_ATTR, {}).get("task"))
    print_ensemble(console, comparison, config.top_k, [method], predicts, config.mlflow)
    return EXIT_OK


def predicts_from_files(task: str | None) -> bool:
    """Return whether the installed task ``task`` reads input files (True when unknown)."""
    from ldnn_tune.plugin.manager import Host, get_plugin_manager
    from ldnn_tune.plugin.task import reads_input_files

    entry = Host(get_plugin_manager()).tasks().get(task or "")
    return entry is None or reads_input_files(entry.task)
