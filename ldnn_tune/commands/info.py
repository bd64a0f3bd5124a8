"""``ldnn-tune tasks`` and ``ldnn-tune space``: what is installed, and what a task searches."""

from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.commands import TASK_SETTINGS
from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.console.tables import options_table, space_table, tasks_table
from ldnn_tune.errors import EXIT_OK, UsageError
from ldnn_tune.plugin.manager import Host, get_plugin_manager


def tasks(words: Sequence[str], console: Console) -> int:
    """List installed tasks with their package and description."""
    if words:
        raise UsageError(f"tasks takes no arguments, got {words[0]!r}")
    console.print(tasks_table(Host(get_plugin_manager()).tasks()))
    return EXIT_OK


def space(words: Sequence[str], console: Console) -> int:
    """Print a task's options, then its effective search space with the user's overrides."""
    run = resolve_run(words, Host(get_plugin_manager()), False, "space", TASK_SETTINGS)
    console.print(options_table(run.task.name, run.task.options))
    console.print(space_table(run.task.name, run.space))
    return EXIT_OK
