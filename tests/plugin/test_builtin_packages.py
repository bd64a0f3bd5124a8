"""The built-in plugins ship their search spaces as package data, as a third-party plugin does."""

import shutil
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.space.load import task_space_files

ROOT = Path(__file__).parents[2]
# plugin folder -> its import package and the space files inside it
SPACES = {
    "ldnn_tune_image": ("space.yaml",),
    "ldnn_tune_speech": ("space.yaml", "synth.yaml"),
    "ldnn_tune_sequence": ("sequence.yaml", "sequence-cpu.yaml"),
}


@pytest.mark.parametrize("package", sorted(SPACES))
def test_the_space_files_are_package_data_of_the_installed_package(package: str) -> None:
    # the development install is editable: the files are the ones in the source tree
    for name in SPACES[package]:
        resource = files(package) / name
        assert resource.is_file(), resource
        source = ROOT / "plugins" / package / "src" / package / name
        assert resource.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    assert not (ROOT / "search_spaces" / f"{package.removeprefix('ldnn_tune_')}.yaml").exists()


@pytest.mark.parametrize(("task", "options"), [("image", {}), ("speech", {})])
def test_a_task_returns_its_packages_space(task: str, options: dict[str, str]) -> None:
    entry = Host(get_plugin_manager()).task(task)
    instance = entry.task(entry.task.options_type(**options), None, 0)
    found = [str(source) for source in task_space_files(instance)]
    assert found == [str(files(f"ldnn_tune_{task}") / "space.yaml")]


@pytest.mark.slow
@pytest.mark.parametrize("package", sorted(SPACES))
def test_the_wheel_holds_the_space_files(tmp_path: Path, package: str) -> None:
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "plugins" / package,
        source,
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "tests"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    wheel = ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run([*pip, *wheel, str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SPACES[package]:
        assert f"{package}/{name}" in names, sorted(names)
