"""The command line in this process: every user mistake is one line, exit 2, nothing created."""

import subprocess
from pathlib import Path

import pytest

from ldnn_tune.cli import main
from ldnn_tune.testing.cli import assert_usage_error

MISTAKES = [
    (("task=speach",), ("unknown task 'speach'; installed:", "image")),
    (("task=image", "trails=3"), ("unknown key 'trails'; valid:", "trials")),
    (("task=image", "trials=many"), ("invalid value 'many' for trials: expected an integer",)),
    (("task=image", "trials=-2"), ("invalid trials=-2: must be at least 1",)),
    (("task=image", "space=bad.yaml"), ("malformed YAML in bad.yaml",)),
    (("task=image", "data_dir=missing"), ("data_dir 'missing' does not exist",)),
    (("task=image", "sampler=grid"), ("invalid sampler 'grid'; choose from",)),
    (("task=image", "init=he"), ("invalid value 'he' for init; choose from scaled",)),
    (("task=image", "storage=nowhere"), ("invalid storage 'nowhere'",)),
    (("task=image", "trials"), ("expected key=value, got 'trials'",)),
    (("task=image", "n_jobs=1000"), ("invalid n_jobs=1000: this machine has", "force_jobs=true")),
    (("task=image", "seed=many"), ("invalid value 'many' for seed: expected an integer",)),
    (("task=image", "seed=-1"), ("invalid seed=-1: must be between 0 and",)),
    (("task=image", "min_lr=nan"), ("invalid min_lr=nan: must be a finite number",)),
    (("task=image", "ratio_high=inf"), ("invalid ratio_high=inf: must be a finite number",)),
]


@pytest.mark.parametrize(("words", "needles"), MISTAKES)
def test_user_mistakes_are_one_line_exit_2_and_create_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    words: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("lr: [0.1,\n")
    code = main(["run", *words])
    captured = capsys.readouterr()
    assert_usage_error(subprocess.CompletedProcess([], code, captured.out, captured.err), *needles)
    assert not (tmp_path / "ldnn_tune.db").exists()
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["port=99999"], "invalid port=99999"),
        (["colour=red"], "unknown key 'colour'; valid: browser, host, mlflow, port, study"),
    ],
)
def test_ui_rejects_bad_input(
    capsys: pytest.CaptureFixture[str], words: list[str], needle: str
) -> None:
    code = main(["ui", *words])
    captured = capsys.readouterr()
    assert_usage_error(subprocess.CompletedProcess([], code, captured.out, captured.err), needle)
