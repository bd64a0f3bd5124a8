"""`ldnn-tune check`, and health-pruned trials in a real run's summary."""

from pathlib import Path

import optuna
import pytest

from ldnn_tune.testing.cli import run_cli


@pytest.mark.slow
def test_check_command_exit_codes(tmp_path: Path) -> None:
    good = run_cli(tmp_path, "check", "task=image")
    assert good.returncode == 0, good.stdout + good.stderr
    for name in ("data", "batch mean", "gradient", "init scale", "overfit"):
        assert name in good.stdout
    data = good.stdout.index("data: scikit-learn digits, 10 classes")  # what they saw,
    assert data < good.stdout.index("pre-flight checks of task 'image'")  # above the table
    bad = run_cli(tmp_path, "check", "task=sequence", "problem=copy")
    assert bad.returncode == 1
    assert "failed: overfit" in bad.stdout


@pytest.mark.slow
def test_health_pruned_trials_are_shown_in_the_summary(tmp_path: Path) -> None:
    space = tmp_path / "frozen.yaml"
    space.write_text(
        "lr: {type: float, low: 1.0e-12, high: 1.0e-11, log: true, default: 1.0e-12}\n"
    )
    words = ("trials=2", "epochs=3", f"space={space}", "min_lr=1e-13", "ensemble=none")
    result = run_cli(tmp_path, "run", "task=image", *words)
    assert result.returncode == 1, result.stderr  # no trial completed: no net to use
    assert "2 pruned" in result.stdout
    assert "unhealthy: median update/weight ratio" in result.stdout
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{tmp_path}/ldnn_tune.db")
    assert all(t.user_attrs["reason"].startswith("unhealthy") for t in study.trials)
