"""The progress display: one plain line per finished trial, the running trial's knobs, time left."""

import io
import time

from rich.console import Console

from ldnn_tune.config.timespan import format_seconds
from ldnn_tune.console.progress import StudyProgress, knobs_text


def redirected() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=80), out


def test_a_finished_trial_is_one_unwrapped_line_where_output_is_redirected() -> None:
    console, out = redirected()
    params = {"lr": 0.1, "width": 32, "init": "scaled", "dropout": 0.123456}
    with StudyProgress(console, 3, 0) as progress:
        progress.start_trial(4, 10, params)
        progress.trial_done(4, "COMPLETE", "val_loss 0.0712", 41.2, params)
        progress.trial_done(5, "PRUNED", "pruned at epoch 2", 3.25, {"lr": 0.5})
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == "trial 4 COMPLETE val_loss 0.0712 in 41s  lr=0.1 width=32 init=scaled dropout=0.123"
    )
    assert lines[1] == "trial 5 PRUNED pruned at epoch 2 in 3.2s  lr=0.5"


def test_the_knobs_shown_are_cut_after_six() -> None:
    params = {f"k{i}": i for i in range(8)}
    assert knobs_text(params) == "k0=0 k1=1 k2=2 k3=3 k4=4 k5=5 …"
    assert knobs_text({}) == ""


def test_time_left_counts_down_to_the_deadline() -> None:
    console, _ = redirected()
    assert StudyProgress(console, 1, 0).time_left() == ""
    assert StudyProgress(console, 1, 0, time.time() + 250.4).time_left() == "4m10s left"
    assert StudyProgress(console, 1, 0, time.time() - 5).time_left() == "0.0s left"


def test_seconds_read_like_a_timeout() -> None:
    assert [format_seconds(s) for s in (3.25, 42, 250, 3900)] == ["3.2s", "42s", "4m10s", "1h05m"]
