"""The ``ldnn-tune`` commands: one module each (``info`` holds tasks and space).

Each command is a function ``(words, console) -> exit code``.

:data:`COMMANDS` is the registry the CLI builds its parser from; a command's module is
imported only when that command runs, so ``--help`` and usage errors stay fast.
"""

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

CommandFunction = Callable[[Sequence[str], "Console"], int]


RUN_SETTINGS = "ldnn_tune.config.settings:RunConfig"
TASK_WORDS = "and the task's options and knobs (ldnn-tune space task=NAME lists the knobs)"
# the run settings that shape the task itself: all that check and space take
TASK_SETTINGS = ("task", "seed", "space", "data_dir")


@dataclass(frozen=True)
class Command:
    """A command: its one-line help and the function that runs it, as ``module:function``.

    ``settings`` names the dataclass (``module:Class``) its ``key=value`` words fill, whose
    fields ``--help`` lists with their defaults; ``examples`` are shown there too.
    """

    help: str
    target: str
    settings: str = ""
    examples: tuple[str, ...] = ()
    note: str = ""  # what else the words may hold
    fields: tuple[str, ...] = ()  # the settings' fields it takes, when not all of them


COMMANDS: dict[str, Command] = {
    "run": Command(
        "tune a task: ldnn-tune run task=image [trials=20 timeout=10m lr=0.1 ...]",
        "ldnn_tune.commands.run:main",
        RUN_SETTINGS,
        (
            "ldnn-tune run task=image",
            "ldnn-tune run task=speech trials=40 timeout=1h lr=0.05 space=quick-cpu",
        ),
        TASK_WORDS,
    ),
    "tasks": Command(
        "list the installed task plugins",
        "ldnn_tune.commands.info:tasks",
        examples=("ldnn-tune tasks", "LDNN_TUNE_BLOCK_PLUGINS=speech ldnn-tune tasks"),
        note="no settings; LDNN_TUNE_BLOCK_PLUGINS=ENTRY_POINT,... switches plugins off",
    ),
    "check": Command(
        "pre-flight checks of a task in seconds: ldnn-tune check task=image [knob=value]",
        "ldnn_tune.commands.check:main",
        RUN_SETTINGS,
        ("ldnn-tune check task=image", "ldnn-tune check task=image lr=0.3 dropout=0.2"),
        TASK_WORDS,
        TASK_SETTINGS,
    ),
    "space": Command(
        "print a task's options and search space: ldnn-tune space task=image [space=FILE]",
        "ldnn_tune.commands.info:space",
        RUN_SETTINGS,
        ("ldnn-tune space task=image", "ldnn-tune space task=image space=wide lr=0.05"),
        TASK_WORDS,
        TASK_SETTINGS,
    ),
    "ensemble": Command(
        "ensemble a study's trials: ldnn-tune ensemble study=NAME "
        "[method=seeds|greedy|average top_k=5 | trials=N[,N...]] [storage=URL mlflow=URI]",
        "ldnn_tune.commands.ensemble:main",
        "ldnn_tune.config.settings:EnsembleConfig",
        (
            "ldnn-tune ensemble study=image",
            "ldnn-tune ensemble study=image method=greedy top_k=8",
            "ldnn-tune ensemble study=image trials=7",
        ),
    ),
    "predict": Command(
        "run a saved ensemble on files: ldnn-tune predict model=RUN_ID_OR_FOLDER "
        "input=FILE[,FILE...] [mlflow=URI output=FILE.csv]",
        "ldnn_tune.commands.predict:main",
        "ldnn_tune.config.settings:PredictConfig",
        (
            "ldnn-tune predict model=RUN_ID input=a.png,b.png",
            "ldnn-tune predict model=path/to/ensemble input=images/ output=predictions.csv",
        ),
    ),
    "generate": Command(
        "sample text from a saved ensemble of a character model: ldnn-tune generate "
        "model=RUN_ID_OR_FOLDER [prompt=TEXT length=500 temperature=1]",
        "ldnn_tune.commands.generate:main",
        "ldnn_tune.config.settings:GenerateConfig",
        (
            "ldnn-tune generate model=RUN_ID prompt='ROMEO:'",
            "ldnn-tune generate model=RUN_ID length=2000 temperature=0.8 output=sample.txt",
        ),
    ),
    "ui": Command(
        "serve the MLflow UI on 127.0.0.1: ldnn-tune ui [mlflow=URI port=5000]",
        "ldnn_tune.commands.ui:main",
        "ldnn_tune.config.settings:UiConfig",
        ("ldnn-tune ui", "ldnn-tune ui study=speech port=5001"),
    ),
    "dashboard": Command(
        "serve optuna-dashboard on the study storage: ldnn-tune dashboard [storage=URL port=8080]",
        "ldnn_tune.commands.dashboard:main",
        "ldnn_tune.config.settings:DashboardConfig",
        ("ldnn-tune dashboard", "ldnn-tune dashboard study=image storage=postgresql://HOST/db"),
    ),
    "report": Command(
        "write a study's plots and tables to one file: ldnn-tune report study=NAME "
        "[format=html|md output=FILE]",
        "ldnn_tune.commands.report:main",
        "ldnn_tune.config.settings:ReportConfig",
        ("ldnn-tune report study=image", "ldnn-tune report study=image format=md output=r.md"),
    ),
    "new-task": Command(
        "write a new task plugin package: ldnn-tune new-task NAME [dir=PATH "
        "kind=classification|regression]",
        "ldnn_tune.commands.new_task:main",
        examples=("ldnn-tune new-task blobs", "ldnn-tune new-task prices kind=regression dir=."),
        note="NAME: the task's name; dir=PATH (default: ./ldnn-tune-NAME), "
        "kind=classification (default) or regression",
    ),
}


def settings_help(command: Command) -> str:
    """Return ``command``'s settings (key, default, meaning), note and examples, for --help."""
    lines = []
    if command.settings:
        module, _, name = command.settings.partition(":")
        schema = getattr(importlib.import_module(module), name)
        lines.append("settings (key=value):")
        for field in dataclasses.fields(schema):
            if command.fields and field.name not in command.fields:
                continue
            meaning = field.metadata.get("help", "")
            lines.append(f"  {field.name}{_default_text(field.default)}: {meaning}")
    if command.note:
        lines.append(command.note if not command.settings else f"  {command.note}")
    if command.examples:
        lines += ["", "examples:", *(f"  {example}" for example in command.examples)]
    return "\n".join(lines)


def _default_text(default: object) -> str:
    """Return `` (default 20)`` as the user would type the value; "" when there is none."""
    if default is None or default == "":
        return ""
    text = str(default).lower() if isinstance(default, bool) else str(default)
    return f" (default {text})"


def load_command(name: str) -> CommandFunction:
    """Import and return the function that runs command ``name``."""
    module, _, function = COMMANDS[name].target.partition(":")
    found: CommandFunction = getattr(importlib.import_module(module), function)
    return found
