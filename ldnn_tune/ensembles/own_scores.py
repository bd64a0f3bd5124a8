"""The task's own scores of an ensemble (``Task.own_scores``), as its trials have them."""

from pathlib import Path
from typing import Any

import optuna

from ldnn_tune.config.words import build_typed
from ldnn_tune.ensembles.combine import OwnScores
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.plugin.task import Task


def study_own_scores(study: optuna.Study) -> OwnScores | None:
    """Return the own scores of ``study``'s task, rebuilt with its options; None without.

    None also where the task is not installed, or no longer takes the study's options:
    the ensemble is scored as any other (loss, accuracy or MSE), without the extras.
    """
    identity: dict[str, Any] = study.user_attrs.get(IDENTITY_ATTR, {})
    entry = Host(get_plugin_manager()).tasks().get(str(identity.get("task", "")))
    if entry is None or entry.task.own_scores is Task.own_scores:
        return None
    data_dir = Path(identity["data_dir"]) if identity.get("data_dir") else None
    try:
        options = build_typed(entry.task.options_type, identity.get("options", {}))
        task = entry.task(options, data_dir, int(identity.get("seed", 0)))
    except Exception:  # the plugin's constructor, or options it no longer has: no extras
        return None
    return task.own_scores
