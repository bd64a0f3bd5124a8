"""The progress display: one plain line per finished trial, the running trial's knobs, time left."""

import io
import time
from pathlib import Path

import optuna
from rich.console import Console

from ldnn_tune.config.timespan import format_seconds
from ldnn_tune.console.progress import StudyProgress, knobs_text
from ldnn_tune.names import REASON_ATTR
from ldnn_tune.study.queries import view


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


def test_trials_other_processes_finish_get_their_line_once(tmp_path: Path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # before this command
    console, out = redirected()
    progress = StudyProgress(console, 5, 1)
    progress.show(view(study))
    assert out.getvalue() == ""  # what the study had is not lined again
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # another worker's
    mine = study.ask()  # this process's, which lines it itself
    study.tell(mine, 0.5)
    progress.trial_done(mine.number, "COMPLETE", "val_loss 0.5000", 1.0, {})
    progress.show(view(study))
    progress.show(view(study))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("trial 1 COMPLETE val_loss 0.")
    assert "x=" in lines[1]


def test_a_trial_failed_since_the_command_began_is_lined_at_the_first_look(
    tmp_path: Path,
) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    dead = study.ask()  # RUNNING when the command began: a worker killed mid-trial
    console, out = redirected()
    progress = StudyProgress(console, 5, 0, ended=[])
    dead.set_user_attr(REASON_ATTR, "its worker process on this machine ended mid-trial")
    study.tell(dead, state=optuna.trial.TrialState.FAIL)  # as the recovery fails it
    progress.show(view(study))
    assert out.getvalue().startswith("trial 0 FAIL its worker process on this machine ended")


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
