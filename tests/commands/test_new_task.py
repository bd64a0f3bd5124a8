"""``ldnn-tune new-task``: bad input writes nothing; the plugin it writes installs, passes its
own tests and runs, ensembles and predicts through the real command."""

import ast
import csv
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import distributions
from pathlib import Path

import pytest
from helpers import mlflow_client

import ldnn_tune
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main

BIN = Path(sys.executable).parent
KINDS = ("classification", "regression")
E2E_PREFIX = "e2e_"  # the names the end-to-end tests install under


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("words", "needles"),
    [
        ([], ["missing NAME", "new-task NAME"]),
        (["Blobs"], ["invalid NAME 'Blobs'", "lowercase Python identifier"]),
        (["my-task"], ["invalid NAME 'my-task'"]),
        (["2fast"], ["invalid NAME '2fast'"]),
        (["a" * 25], ["invalid NAME", "at most 24"]),
        (["blobs", "kind=ranking"], ["invalid kind 'ranking'", "classification, regression"]),
        (["blobs", "size=3"], ["unknown key 'size'", "valid: dir, kind"]),
        (["blobs", "other"], ["one NAME", "'blobs' and 'other'"]),
        (["blobs", "kind=regression", "kind=regression"], ["kind given twice"]),
        (["blobs", "=x"], ["expected key=value"]),
        (["name=blobs"], ["missing NAME (the name alone: new-task blobs)"]),
        (["image"], ["a task of that name is installed already", "image, sequence, speech"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cwd: Path, capsys: pytest.CaptureFixture[str], words: list[str], needles: list[str]
) -> None:
    assert_usage_error(run_main(["new-task", *words], capsys), *needles)
    assert list(cwd.iterdir()) == []


def test_the_name_of_an_installed_package_is_refused(
    cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = cwd / "site"
    (site / "ldnn_tune_fake-1.0.dist-info").mkdir(parents=True)
    (site / "ldnn_tune_fake-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ldnn-tune-fake\nVersion: 1.0\n"
    )
    monkeypatch.syspath_prepend(str(site))
    result = run_main(["new-task", "fake"], capsys)
    assert_usage_error(result, "package ldnn-tune-fake 1.0 is installed already", "replace it")
    assert list(cwd.iterdir()) == [site]


def test_a_folder_that_holds_anything_is_refused(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "mine").mkdir()
    (cwd / "mine" / "notes.txt").write_text("keep me")
    (cwd / "afile").write_text("keep me too")
    result = run_main(["new-task", "blobs", "dir=mine"], capsys)
    assert_usage_error(result, "invalid dir=mine", "not empty")
    assert_usage_error(run_main(["new-task", "blobs", "dir=afile"], capsys), "is a file")
    assert [p.name for p in (cwd / "mine").iterdir()] == ["notes.txt"]
    assert (cwd / "afile").read_text() == "keep me too"


def generate(capsys: pytest.CaptureFixture[str], name: str, kind: str, folder: Path) -> str:
    result = run_main(["new-task", name, f"dir={folder}", f"kind={kind}"], capsys)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_writes_a_complete_package_and_says_what_next(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_main(["new-task", "blobs"], capsys)
    assert result.returncode == 0, result.stderr
    folder = cwd / "ldnn-tune-blobs"  # the default folder
    package = folder / "src" / "ldnn_tune_blobs"
    for path in ("pyproject.toml", "README.md", "tests/test_contract.py", "tests/test_task.py"):
        assert (folder / path).is_file(), path
    for name in ("__init__.py", "plugin.py", "task.py", "space.yaml", "py.typed"):
        assert (package / name).is_file(), name
    assert (
        '[project.entry-points.ldnn_tune]\nblobs = "ldnn_tune_blobs.plugin"'
        in (folder / "pyproject.toml").read_text()
    )
    assert "class TestBlobsTask(TaskContract):" in (folder / "tests/test_contract.py").read_text()
    assert "$" not in "".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    for line in ("pip install -e ldnn-tune-blobs", "ldnn-tune run task=blobs", "pytest "):
        assert line in result.stdout
    assert "src/ldnn_tune_blobs/task.py" in result.stdout


def test_a_folder_from_home_is_made_there_not_in_a_folder_named_tilde(
    cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = cwd / "home"
    monkeypatch.setenv("HOME", str(home))
    result = run_main(["new-task", "blobs", "dir=~/plugins/blobs"], capsys)
    assert result.returncode == 0, result.stderr
    assert (home / "plugins" / "blobs" / "pyproject.toml").is_file()
    assert not (cwd / "~").exists()
    assert f"pip install -e {home / 'plugins' / 'blobs'}" in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_the_plugin_uses_only_the_public_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    generate(capsys, "blobs", kind, tmp_path / "plugin")
    allowed = {"ldnn_tune", "ldnn_tune.testing", "ldnn_tune.testing.contract"}
    for path in (tmp_path / "plugin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ldnn_tune."):
                assert node.module.startswith("ldnn_tune_") or node.module in allowed, path


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["b", "abcdefghij_klmnopqrstuvw"])
def test_the_plugin_passes_ruff_with_the_project_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str
) -> None:
    folder = tmp_path / "plugin"
    generate(capsys, name, kind, folder)
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [str(BIN / "ruff"), *command], cwd=folder, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_listing_the_task_loads_neither_torch_nor_numpy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    generate(capsys, "blobs", kind, tmp_path / "plugin")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'plugin' / 'src')!r})\n"
        "from ldnn_tune_blobs.plugin import ldnn_tune_tasks\n"
        "task = ldnn_tune_tasks()[0]; task.options_type(); print(task.name, task.kind)\n"
        "print(sorted({'torch', 'numpy', 'lightning'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"blobs {kind}", "[]"]


@pytest.mark.slow
def test_both_kinds_of_plugin_pass_mypy_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Path(ldnn_tune.__file__).parents[1]
    for kind in KINDS:  # one cache: the second run does not read torch's types again
        generate(capsys, "blobs", kind, tmp_path / kind)
        # with the generated settings, as its README says for an editable ldnn-tune
        result = subprocess.run(
            [str(BIN / "mypy"), "--cache-dir", str(tmp_path / ".cache")],
            cwd=tmp_path / kind,
            env={**os.environ, "MYPYPATH": str(repo)},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, kind + ": " + result.stdout + result.stderr
        assert "Success" in result.stdout


def pip(*words: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *words],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def remove_stale_installs() -> None:
    """Uninstall plugins an interrupted run of these tests left behind, their folder gone.

    A left-over editable install of a deleted folder would warn in every other command.
    """
    for dist in distributions():
        name = dist.metadata["Name"] or ""
        direct = dist.read_text("direct_url.json")
        if not name.startswith(f"ldnn-tune-{E2E_PREFIX[:-1]}-") or direct is None:
            continue
        source = Path(json.loads(direct).get("url", "").removeprefix("file://"))
        if not source.exists():
            pip("uninstall", "-y", name)


@contextmanager
def installed(folder: Path, dist: str) -> Iterator[None]:
    """Install the plugin in ``folder`` into this venv, editable, for the block's duration."""
    remove_stale_installs()
    pip("install", "--no-deps", "--no-build-isolation", "-e", str(folder))
    try:
        yield
    finally:
        pip("uninstall", "-y", dist)


def succeeds(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def ensemble_run_id(cwd: Path, study: str) -> str:
    client = mlflow_client(cwd)
    experiment = client.get_experiment_by_name(study)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'ensemble'"
    )
    assert runs
    return str(runs[0].info.run_id)


def predict_table(cwd: Path, name: str, rows: list[list[float]]) -> list[list[str]]:
    """Predict a CSV table with the study's ensemble; return the output CSV's rows."""
    lines = [",".join(f"f{i}" for i in range(len(rows[0])))]
    lines += [",".join(str(v) for v in row) for row in rows]
    (cwd / "table.csv").write_text("\n".join(lines) + "\n")
    words = (f"model={ensemble_run_id(cwd, name)}", "input=table.csv", "output=out.csv")
    succeeds(run_cli(cwd, "predict", *words))
    with (cwd / "out.csv").open() as handle:
        return list(csv.reader(handle))


TABLE = [[50.0, 40.0, 60.0, 55.0], [45.0, 52.0, 48.0, 61.0], [58.0, 43.0, 51.0, 49.0]]


@pytest.mark.slow
def test_a_new_classification_plugin_installs_tests_runs_ensembles_and_predicts(
    tmp_path: Path,
) -> None:
    name = f"{E2E_PREFIX}blobs_{secrets.token_hex(3)}"
    folder = tmp_path / "plugin"
    succeeds(run_cli(tmp_path, "new-task", name, f"dir={folder}"))
    with installed(folder, f"ldnn-tune-{name.replace('_', '-')}"):
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert tests.returncode == 0, tests.stdout[-3000:]
        assert " passed" in tests.stdout and "failed" not in tests.stdout
        assert name in succeeds(run_cli(tmp_path, "tasks"))
        run_words = ("trials=3", "epochs=2", "timeout=5m", "reseeds=2")
        succeeds(run_cli(tmp_path, "run", f"task={name}", *run_words))
        assert "seeds" in succeeds(run_cli(tmp_path, "ensemble", f"study={name}"))
        header, *rows = predict_table(tmp_path, name, TABLE)
    assert header == ["input", "row", "prediction", "score", "error"]
    assert [row[:2] for row in rows] == [["table.csv", "1"], ["table.csv", "2"], ["table.csv", "3"]]
    assert all(row[2] in {"a", "b", "c"} and 0 < float(row[3]) <= 1 for row in rows)


@pytest.mark.slow
def test_a_new_regression_plugin_runs_and_predicts(tmp_path: Path) -> None:
    name = f"{E2E_PREFIX}wave_{secrets.token_hex(3)}"
    folder = tmp_path / "plugin"
    succeeds(run_cli(tmp_path, "new-task", name, f"dir={folder}", "kind=regression"))
    # data of one's own, in its units (as a price of about 5,000): only generate() changes
    (synthetic,) = folder.glob("src/*/synthetic.py")
    code = synthetic.read_text()
    assert "return Synthetic(x, y.astype(np.float32)" in code
    synthetic.write_text(
        code.replace("y.astype(np.float32)", "(5000 + 1000 * y).astype(np.float32)")
    )
    with installed(folder, f"ldnn-tune-{name.replace('_', '-')}"):
        checked = succeeds(run_cli(tmp_path, "check", f"task={name}"))
        assert "targets served far from standardised" not in checked  # the template does it
        succeeds(run_cli(tmp_path, "run", f"task={name}", "trials=2", "epochs=2", "timeout=5m"))
        header, *rows = predict_table(tmp_path, name, TABLE)
    assert header == ["input", "row", "prediction", "spread", "error"]
    assert len(rows) == 3
    ensemble = mlflow_client(tmp_path).get_run(ensemble_run_id(tmp_path, name))
    assert "test_mae" in ensemble.data.metrics
    assert not [m for m in ensemble.data.metrics if m.endswith("_temperature")]
    for row in rows:  # a value and the members' spread around it, not the value again
        assert float(row[3]) >= 0 and row[2] != row[3]
        assert 1000 < float(row[2]) < 9000  # in the target's units
