"""`ldnn-tune tasks` and `ldnn-tune space` through the real console script."""

from pathlib import Path

import pytest
from helpers import Cli


@pytest.mark.slow
def test_tasks_lists_plugins_with_their_package(cli: Cli) -> None:
    result = cli("tasks")
    assert result.returncode == 0
    assert "image" in result.stdout and "ldnn-tune-image 0.1.0" in result.stdout


@pytest.mark.slow
def test_space_prints_the_effective_space_with_overrides(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "width: {type: categorical, choices: [8, 128], default: 8}\n"
    )
    result = cli("space", "task=image", "lr=0.2", "space=mine.yaml", "color=true")
    assert result.returncode == 0, result.stderr
    lines = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert "fixed 0.2" in lines["lr"]
    assert "one of 8, 128" in lines["width"]
    assert "init=scaled" in lines["init_scale"]
    # the task's options first: the value in use, the default, the type
    assert lines["color"].split("│")[2:5] == [" true  ", " false   ", " true or false "]
    assert "options of task 'image'" in result.stdout.split("search space")[0]
    assert not (tmp_path / "ldnn_tune.db").exists()
