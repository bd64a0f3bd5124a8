"""The frameworks' chatter stays out of the user's way, warnings-as-errors included."""

import subprocess
import sys
from pathlib import Path

OPEN_STORE = """
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.tracking import StudyTracker
quiet_frameworks()
StudyTracker("sqlite:///m.db", "x")
print("opened")
"""


def test_a_store_opens_with_warnings_turned_into_errors(tmp_path: Path) -> None:
    """``-W error`` (or PYTHONWARNINGS=error): MLflow's own SQLAlchemy deprecation raised."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", OPEN_STORE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "opened"


def test_a_plugins_own_deprecation_still_reaches_its_author() -> None:
    """Only the frameworks' deprecation warnings are hidden, not those of other code."""
    import warnings

    from ldnn_tune.console.quiet import quiet_frameworks

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_frameworks()
        warnings.warn("old_hook() is deprecated", DeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["old_hook() is deprecated"]
