"""Silence the frameworks' own chatter: ldnn-tune prints its own progress and tables."""

import logging
import os
import warnings


def quiet_frameworks() -> None:
    """Silence Lightning's, Optuna's and MLflow's logging and their known harmless warnings."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "alembic", "mlflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\).*")
    warnings.filterwarnings("ignore", category=UserWarning, module="lightning")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial is ours to report
