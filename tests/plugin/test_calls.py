"""A bug in a plugin's own code is one line naming the task, its package and the method."""

from pathlib import Path
from typing import Any

import pytest

import ldnn_tune.commands.info
import ldnn_tune.commands.run
from ldnn_tune import hookimpl
from ldnn_tune.plugin.manager import get_plugin_manager
from ldnn_tune.testing import BoringTask
from ldnn_tune.testing.cli import run_main


class BrokenPrepare(BoringTask):
    name = "broken"
    description = "a task whose prepare() has a bug"

    def prepare(self) -> None:
        raise KeyError("label")


class BrokenModel(BoringTask):
    name = "brokenmodel"
    description = "a task whose model() has a bug"

    def model(self, hp: Any) -> Any:
        raise RuntimeError("shape mismatch in my net")


class Tasks:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return [BrokenPrepare, BrokenModel]


class BrokenHook:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        raise ImportError("no module named 'tabulate'")


def with_plugin(monkeypatch: pytest.MonkeyPatch, plugin: object) -> None:
    for module in (ldnn_tune.commands.run, ldnn_tune.commands.info):
        monkeypatch.setattr(module, "get_plugin_manager", lambda: get_plugin_manager((plugin,)))


@pytest.mark.parametrize(
    ("task", "line"),
    [
        ("broken", "error: task 'broken' ((local)) failed in prepare(): KeyError: 'label'"),
        (
            "brokenmodel",
            "error: task 'brokenmodel' ((local)) failed in model(): RuntimeError: shape "
            "mismatch in my net",
        ),
    ],
)
def test_a_plugin_bug_is_one_line_with_exit_code_3_and_creates_nothing(
    task: str,
    line: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with_plugin(monkeypatch, Tasks())
    result = run_main(["run", f"task={task}"], capsys)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "ldnn_tune.db").exists()


def test_the_debug_variable_adds_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LDNN_TUNE_DEBUG", "1")
    with_plugin(monkeypatch, Tasks())
    result = run_main(["run", "task=broken"], capsys)
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "raise KeyError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: task 'broken'")


def test_a_hook_that_raises_names_the_plugin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_plugin(monkeypatch, BrokenHook())
    result = run_main(["tasks"], capsys)
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert "failed in ldnn_tune_tasks(): ImportError: no module named 'tabulate'" in line
    assert line.startswith("error: plugin ")
