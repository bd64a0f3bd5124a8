"""``ldnn-tune tasks``: each task with the entry point that blocks it and its package."""

import sys
from pathlib import Path

import pytest

from ldnn_tune.plugin.manager import BLOCK_ENV
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main

PLUGIN = """
from ldnn_tune import hookimpl
from ldnn_tune.testing import BoringTask


@hookimpl
def ldnn_tune_tasks():
    return [BoringTask]
"""


def install_fake(site: Path, dist: str, entry_point: str) -> None:
    """Make ``site`` hold package ``dist`` whose entry point ``entry_point`` gives BoringTask."""
    module = f"{dist.replace('-', '_')}_plugin"
    (site / f"{module}.py").write_text(PLUGIN)
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ldnn_tune]\n{entry_point} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path (and PYTHONPATH, for subprocesses) for fake plugin packages."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    yield site
    for name in [m for m in sys.modules if m.endswith("_plugin") and m.startswith("dup_")]:
        del sys.modules[name]


def rows(stdout: str) -> dict[str, list[str]]:
    """Return the table's rows by task: the cells after the task name."""
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in stdout.splitlines()
        if line.startswith("│")
    ]
    return {row[0]: row[1:] for row in cells if row and row[0]}


def test_tasks_shows_each_tasks_entry_point_and_package(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_fake(site, "dup-one", "dull")
    result = run_main(["tasks"], capsys)
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert table["image"][:2] == ["image", "ldnn-tune-image 0.1.0"]
    assert table["boring"][:2] == ["dull", "dup-one 1.0"]
    assert f"{BLOCK_ENV}=ENTRY_POINT or PACKAGE" in result.stdout


def test_a_task_provided_twice_names_both_entry_points(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_fake(site, "dup-one", "dull")
    install_fake(site, "dup-two", "duller")
    clash = (
        "task 'boring' is provided twice: by plugin 'dull' (dup-one 1.0) and plugin 'duller' "
        f"(dup-two 1.0); block one with {BLOCK_ENV}=dull or {BLOCK_ENV}=duller"
    )
    listed = run_main(["tasks"], capsys)  # the other tasks stay usable
    assert listed.returncode == 0 and "boring" not in rows(listed.stdout)
    assert listed.stderr == f"warning: {clash}; until then it is not available\n"
    assert_usage_error(run_main(["space", "task=boring"], capsys), clash)


@pytest.mark.parametrize("blocked", ["duller", "dup-two", "DUP_two"])
def test_blocking_either_by_entry_point_or_package_settles_it(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    blocked: str,
) -> None:
    install_fake(site, "dup-one", "dull")
    install_fake(site, "dup-two", "duller")
    monkeypatch.setenv(BLOCK_ENV, blocked)
    result = run_main(["tasks"], capsys)
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout)["boring"][:2] == ["dull", "dup-one 1.0"]


@pytest.mark.slow
def test_the_real_command_shows_entry_points_and_the_duplicate_error(
    site: Path, tmp_path: Path
) -> None:
    install_fake(site, "dup-one", "dull")
    result = run_cli(tmp_path, "tasks")
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout)["boring"][:2] == ["dull", "dup-one 1.0"]
    install_fake(site, "dup-two", "duller")
    result = run_cli(tmp_path, "space", "task=boring")
    assert_usage_error(result, "by plugin 'dull' (dup-one 1.0) and plugin 'duller'")
