"""Whose code a failed trial's error came from: ldnn-tune's own, or the task's."""

import sys
from pathlib import Path

import ldnn_tune
from ldnn_tune.errors import PluginError

HOST_ROOT = Path(ldnn_tune.__file__).resolve().parent
# ldnn-tune's code that runs none of the task's: recording a trial (MLflow, the study's
# storage, the report) and its per-epoch callbacks. A trial's error is seen from the
# objective down; its training and the recipe's classes run the task's code through
# Lightning and torch, whose re-raised errors (a DataLoader worker's) lose the task's
# frames: there ldnn-tune cannot tell, and the task is named as before.
HOST_ONLY = (
    "tracking.py",
    "mlflow_store.py",
    "sqlite.py",
    "report/",
    "study/",
    "ensembles/",
    "health/",
    "trial/pruning.py",  # Optuna's storage, each epoch
    "trial/callbacks.py",
)


def raised_by_host(error: BaseException, task_module: str) -> bool:
    """Return whether ldnn-tune's own code raised ``error``, not the task's.

    The task's code is the whole package of ``task_module`` (its class's module). The
    last frame in either that package or ldnn-tune's :data:`HOST_ONLY` code decides: a
    full disk fails in ldnn-tune's MLflow logging, after the task's code returned. An
    error wrapped as a :class:`PluginError` is the task's by definition.
    """
    if isinstance(error, PluginError):
        return False
    task_root = _package_root(task_module)
    last = None
    frame = error.__traceback__
    while frame is not None:
        path = Path(frame.tb_frame.f_code.co_filename).resolve()
        if task_root is not None and path.is_relative_to(task_root):
            last = "task"
        elif path.is_relative_to(HOST_ROOT) and _host_only(path.relative_to(HOST_ROOT)):
            last = "host"
        frame = frame.tb_next
    return last == "host"


def _host_only(inside: Path) -> bool:
    """Return whether ``inside`` (a path within ldnn-tune) is :data:`HOST_ONLY` code."""
    return inside.as_posix().startswith(HOST_ONLY)


def _package_root(module: str) -> Path | None:
    """Return the folder of ``module``'s top-level package (its own file's, for a script)."""
    top = sys.modules.get(module.partition(".")[0])
    if top is ldnn_tune:  # a task of ldnn-tune's own (the tests' BoringTask): its module
        top = sys.modules.get(module)
    path = getattr(top, "__file__", None)
    if path is None:
        return None
    return Path(path).resolve().parent
