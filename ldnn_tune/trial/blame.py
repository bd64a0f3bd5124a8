"""Whose code a failed trial's error came from: ldnn-tune's own, or the task's."""

from pathlib import Path

import ldnn_tune
from ldnn_tune.errors import PluginError

HOST_ROOT = Path(ldnn_tune.__file__).resolve().parent
# what plugins build on: an error raised there comes from what the task gave it
TASK_FACING = ("recipe", "plugin", "testing")


def raised_by_host(error: BaseException, task_file: str) -> bool:
    """Return whether ldnn-tune's own code raised ``error``, not the task's.

    The task's code is the folder of ``task_file``, the module of its class. The last
    frame of either decides: a task's net fails inside torch, called from the task's
    code; a full disk fails in ldnn-tune's MLflow logging, after the task's code
    returned. An error wrapped as a :class:`PluginError` is the task's by definition.
    """
    if isinstance(error, PluginError):
        return False
    task_root = Path(task_file).resolve().parent
    last = None
    frame = error.__traceback__
    while frame is not None:
        path = Path(frame.tb_frame.f_code.co_filename).resolve()
        if path.is_relative_to(task_root):
            last = "task"
        elif path.is_relative_to(HOST_ROOT):
            inside = path.relative_to(HOST_ROOT).parts
            last = "task" if inside and inside[0] in TASK_FACING else "host"
        frame = frame.tb_next
    return last == "host"
