"""The command line in this process: every user mistake is one line, exit 2, nothing created."""

import dataclasses
import importlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

from ldnn_tune.cli import _interrupted_line, main, output_width
from ldnn_tune.commands import COMMANDS
from ldnn_tune.errors import Interrupted
from ldnn_tune.testing.cli import assert_usage_error, run_main

MISTAKES = [
    (("task=speach",), ("unknown task 'speach' (did you mean 'speech'?); installed:", "image")),
    (("task=image", "trails=3"), ("unknown key 'trails' (did you mean 'trials'?); valid:",)),
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
        (
            ["colour=red"],
            "unknown key 'colour'; valid: allowed_hosts, browser, host, mlflow, port, study",
        ),
    ],
)
def test_ui_rejects_bad_input(
    capsys: pytest.CaptureFixture[str], words: list[str], needle: str
) -> None:
    code = main(["ui", *words])
    captured = capsys.readouterr()
    assert_usage_error(subprocess.CompletedProcess([], code, captured.out, captured.err), needle)


def test_ldnn_tune_alone_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main([], capsys)
    assert result.returncode == 2
    for name in COMMANDS:
        assert f"\n    {name}" in result.stdout
    assert "ldnn-tune COMMAND --help" in result.stdout and "``" not in result.stdout
    assert result.stderr.strip() == f"error: a command is required: {', '.join(COMMANDS)}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_commands_help_lists_its_settings_with_defaults_and_two_examples(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        run_main([name, "--help"], capsys)
    assert stop.value.code == 0
    text = capsys.readouterr().out
    command = COMMANDS[name]
    assert len(command.examples) >= 2 and all(e in text for e in command.examples)
    if command.settings:
        module, _, cls = command.settings.partition(":")
        for field in dataclasses.fields(getattr(importlib.import_module(module), cls)):
            assert field.metadata.get("help"), f"{cls}.{field.name} has no help line"
            listed = not command.fields or field.name in command.fields
            assert (f"\n  {field.name}" in text) == listed, field.name
    if name == "run":
        assert "  trials (default 20): " in text and "  health (default true): " in text
        assert "task's options and knobs" in text


def test_a_stop_names_every_trial_it_failed_in_this_commands_workers() -> None:
    stop = Interrupted(signal.SIGINT)
    assert _interrupted_line(stop, "run").endswith("again to run the study")  # not open yet
    stop.study_open = True
    assert _interrupted_line(stop, "run").endswith("again to continue the study")
    stop.trial, stop.others = 0, [2, 1]
    assert _interrupted_line(stop, "run") == (
        "interrupted (SIGINT): trials 0, 1 and 2 marked FAIL; run the same command again to "
        "continue (their knobs run again first)"
    )
    stop.others = []
    assert "trial 0 marked FAIL" in _interrupted_line(stop, "run")


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    from ldnn_tune.testing.cli import CLI

    out = subprocess.run([CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"ldnn-tune {version('ldnn-tune')}"


def test_output_to_a_file_is_wider_than_80_columns_unless_columns_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a log of a run (nohup, CI) kept its tables of knobs wrapped mid-word at 80 columns
    monkeypatch.delenv("COLUMNS", raising=False)
    wide = run_main(["space", "task=image"], capsys).stdout
    assert 80 < max(len(line) for line in wide.splitlines()) <= 160
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_main(["space", "task=image"], capsys).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80


def test_output_piped_from_a_terminal_keeps_the_terminal_s_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `ldnn-tune run ... | tee run.log`: stdout a pipe, stderr still the terminal
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((100, 40)))
    assert output_width() == 100
