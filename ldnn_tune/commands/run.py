"""``ldnn-tune run``: resolve the words, run the quick pre-flight for a new study, run it."""

from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.config.resolve import resolve_run
from ldnn_tune.errors import EXIT_CHECK_FAILED, EXIT_OK
from ldnn_tune.health.preflight import preflight
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.study.open import study_exists
from ldnn_tune.study.optimize import run_study


def main(words: Sequence[str], console: Console) -> int:
    """Run a study (after the quick pre-flight, when it is new)."""
    host = Host(get_plugin_manager())
    run = resolve_run(words, host)
    config = run.config
    new_study = not study_exists(config.study_name, config.storage)
    if config.check and new_study and not preflight(run, console, quick_only=True):
        console.print("not starting the study; fix the task, or skip with check=false")
        return EXIT_CHECK_FAILED
    run_study(run, host, console)
    return EXIT_OK
