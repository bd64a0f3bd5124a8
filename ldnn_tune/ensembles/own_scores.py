"""The task's own scores of an ensemble (``Task.own_scores``), as its trials have them."""

from pathlib import Path
from typing import Any

import numpy as np
import optuna

from ldnn_tune.ensembles.bundle import stored_options
from ldnn_tune.ensembles.combine import OwnScores
from ldnn_tune.errors import UsageError
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import TaskEntry
from ldnn_tune.plugin.scores import own_scores
from ldnn_tune.plugin.task import Task


def study_own_scores(study: optuna.Study, entry: TaskEntry | None) -> OwnScores | None:
    """Return the own scores of ``study``'s task (installed as ``entry``); None without.

    None also where the task is not installed, or no longer takes the study's options:
    the ensemble is scored as any other (loss, accuracy or MSE), without the extras. The
    task's own code failing, in its constructor or its scores, is the plugin's error.
    """
    if entry is None or entry.task.own_scores is Task.own_scores:
        return None
    identity: dict[str, Any] = study.user_attrs.get(IDENTITY_ATTR, {})
    data_dir = Path(identity["data_dir"]) if identity.get("data_dir") else None
    try:
        options = stored_options(identity.get("options", {}), entry.task, entry.package)
    except UsageError:  # an option since removed, or a value typed or ranged otherwise now
        return None
    with plugin_code(entry.task.name, entry.package, "__init__()"):
        task = entry.task(options, data_dir, int(identity.get("seed", 0)))

    def scores(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        with plugin_code(entry.task.name, entry.package, "own_scores()"):
            return own_scores(task, predictions, targets)

    return scores
