"""``ldnn-tune check``: every pre-flight check on a task, as a table; exit 1 when one fails."""

from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.commands import TASK_SETTINGS
from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.errors import EXIT_CHECK_FAILED, EXIT_OK
from ldnn_tune.plugin.manager import Host, get_plugin_manager


def main(words: Sequence[str], console: Console) -> int:
    """Run every pre-flight check on a task; exit 1 when one fails."""
    run = resolve_run(words, Host(get_plugin_manager()), True, "check", TASK_SETTINGS)
    from ldnn_tune.console.quiet import quiet_frameworks
    from ldnn_tune.health.outputs import check_run_outputs
    from ldnn_tune.health.preflight import preflight

    quiet_frameworks()
    check_run_outputs(run)  # a model that does not fit its targets is the plugin's bug
    return EXIT_OK if preflight(run, console, quick_only=False) else EXIT_CHECK_FAILED
