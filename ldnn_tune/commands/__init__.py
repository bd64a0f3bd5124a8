"""The ``ldnn-tune`` commands: one module each (``info`` holds tasks and space).

Each command is a function ``(words, console) -> exit code``.

:data:`COMMANDS` is the registry the CLI builds its parser from; a command's module is
imported only when that command runs, so ``--help`` and usage errors stay fast.
"""

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

CommandFunction = Callable[[Sequence[str], "Console"], int]


@dataclass(frozen=True)
class Command:
    """A command: its one-line help and the function that runs it, as ``module:function``."""

    help: str
    target: str


COMMANDS: dict[str, Command] = {
    "run": Command(
        "tune a task: ldnn-tune run task=image [trials=20 timeout=10m lr=0.1 ...]",
        "ldnn_tune.commands.run:main",
    ),
    "tasks": Command("list the installed task plugins", "ldnn_tune.commands.info:tasks"),
    "check": Command(
        "pre-flight checks of a task in seconds: ldnn-tune check task=image [knob=value]",
        "ldnn_tune.commands.check:main",
    ),
    "space": Command(
        "print the effective search space: ldnn-tune space task=image [space=FILE]",
        "ldnn_tune.commands.info:space",
    ),
    "ensemble": Command(
        "ensemble a study's best trials: ldnn-tune ensemble study=NAME "
        "[top_k=5 method=greedy|average storage=URL mlflow=URI]",
        "ldnn_tune.commands.ensemble:main",
    ),
    "predict": Command(
        "run a saved ensemble on files: ldnn-tune predict model=RUN_ID_OR_FOLDER "
        "input=FILE[,FILE...] [mlflow=URI output=FILE.csv]",
        "ldnn_tune.commands.predict:main",
    ),
    "ui": Command(
        "serve the MLflow UI on 127.0.0.1: ldnn-tune ui [mlflow=URI port=5000]",
        "ldnn_tune.commands.ui:main",
    ),
    "dashboard": Command(
        "serve optuna-dashboard on the study storage: ldnn-tune dashboard [storage=URL port=8080]",
        "ldnn_tune.commands.dashboard:main",
    ),
    "report": Command(
        "write a study's plots and tables to one file: ldnn-tune report study=NAME "
        "[format=html|md output=FILE]",
        "ldnn_tune.commands.report:main",
    ),
    "new-task": Command(
        "write a new task plugin package: ldnn-tune new-task NAME [dir=PATH "
        "kind=classification|regression]",
        "ldnn_tune.commands.new_task:main",
    ),
}


def load_command(name: str) -> CommandFunction:
    """Import and return the function that runs command ``name``."""
    module, _, function = COMMANDS[name].target.partition(":")
    found: CommandFunction = getattr(importlib.import_module(module), function)
    return found
