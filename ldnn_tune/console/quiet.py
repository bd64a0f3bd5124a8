"""Silence the frameworks' own chatter: ldnn-tune prints its own progress and tables."""

import logging
import os
import warnings

# the packages whose warnings to one another quiet_frameworks() hides (a module name regex)
FRAMEWORK_MODULES = (
    r"(mlflow|sqlalchemy|alembic|lightning|torch|torchmetrics|optuna|optuna_integration)(\.|$)"
)


def quiet_frameworks() -> None:
    """Silence Lightning's, Optuna's and MLflow's logging and their known harmless warnings."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # with an MLflow server, every run's end printed "View run ... at: URL" (two lines a
    # trial, through the summary; and a request each to read the run's name)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # MLflow logs a failed database commit (a full disk) with its traceback at ERROR before
    # raising it; the error reaches the user as ldnn-tune's one line
    logging.getLogger("mlflow").setLevel(logging.CRITICAL)
    # the frameworks' deprecations of each other's APIs are not the user's to act on; under
    # PYTHONWARNINGS=error (or -W error) they raised inside MLflow's store and failed the run.
    # A plugin's own deprecations still reach its author.
    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=FRAMEWORK_MODULES)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\).*")
    warnings.filterwarnings("ignore", category=UserWarning, module="lightning")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial is ours to report
