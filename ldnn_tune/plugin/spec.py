"""The hooks a plugin may implement. Mark implementations with ``ldnn_tune.hookimpl``.

Plugins are found through the ``ldnn_tune`` entry-point group; the built-in tasks load
the same way a third-party package does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # a plugin that imports hookimpl need not load Lightning
    import lightning.pytorch as pl

    from ldnn_tune.plugin.task import Task
    from ldnn_tune.recipe.hparams import HParams

PROJECT = "ldnn_tune"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ldnn_tune_tasks() -> list[type[Task[Any]]]:  # type: ignore[empty-body]
    """Return the task classes this plugin provides.

    Every plugin's list is collected; two tasks with one ``name`` are an error.

    :return: :class:`ldnn_tune.Task` subclasses.
    """


@hookspec
def ldnn_tune_trial_callbacks(task: Task[Any], hp: HParams) -> list[pl.Callback]:  # type: ignore[empty-body]
    """Return extra Lightning callbacks for one trial's Trainer.

    Called once per trial, and once before ``run``'s first trial with its knobs to catch a
    broken hook early (make the callbacks there, start nothing); every plugin's callbacks
    are added after the host's own (pruning, LR schedule, metric logging).

    :param task: the prepared task the trial trains.
    :param hp: the trial's hyperparameters.
    :return: callbacks to add, possibly none.
    """
