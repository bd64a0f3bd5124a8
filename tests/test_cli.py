"""The real ``ldnn-tune`` command in a subprocess, with real SQLite and MLflow stores."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pytest
from conftest import CLI, assert_usage_error
from mlflow.tracking import MlflowClient

from ldnn_tune.cli import main

Cli = Callable[..., subprocess.CompletedProcess[str]]
TINY = ("trials=2", "epochs=2", "timeout=5m")


def mlflow_runs(cwd: Path, experiment: str) -> list:  # type: ignore[type-arg]
    client = MlflowClient(tracking_uri=f"sqlite:///{cwd / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return client.search_runs([found.experiment_id])


def load(cwd: Path, name: str = "image") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{cwd / 'ldnn_tune.db'}")


@pytest.mark.slow
def test_run_image_end_to_end_then_continue(cli: Cli, tmp_path: Path) -> None:
    result = cli("run", "task=image", *TINY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "best trials of study 'image'" in out
    assert "ldnn-tune ui" in out
    for chatter in ("GPU available", "LitLogger", "Trial 0 finished", "INFO"):
        assert chatter not in out + result.stderr

    study = load(tmp_path)
    trials = study.get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    first = trials[0]
    assert first.params["lr"] == 0.1 and first.params["init"] == "lazy"
    assert first.params["batch_size"] == 128
    assert {"val_acc", "test_acc", "mlflow_run_id", "seed"} <= set(first.user_attrs)

    runs = {r.info.run_name: r for r in mlflow_runs(tmp_path, "image")}
    parent = runs["image"]
    assert parent.data.params["sampler"] == "tpe"
    assert parent.info.status == "FINISHED"
    child = runs["trial-0"]
    assert child.info.run_id == first.user_attrs["mlflow_run_id"]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.tags["optuna.state"] == "COMPLETE"
    assert child.data.params["lr"] == "0.1"
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    history = client.get_metric_history(child.info.run_id, "val_loss")
    assert [m.step for m in history] == [0, 1]
    assert {
        "train_loss",
        "val_acc",
        "lr",
        "grad_norm",
        "clip_fraction",
        "test_acc",
        "best_val_loss",
        "best_epoch",
    } <= set(child.data.metrics)
    npz = client.download_artifacts(child.info.run_id, "predictions.npz", str(tmp_path))
    with np.load(npz) as predictions:
        assert predictions["val_predictions"].shape == (len(predictions["val_targets"]), 10)
        assert predictions["test_predictions"].shape[0] == len(predictions["test_targets"])

    again = cli("run", "task=image", "trials=3", "epochs=2")
    assert again.returncode == 0, again.stderr
    assert "2 of 3 trials finished" in again.stdout
    assert [t.number for t in load(tmp_path).get_trials()] == [0, 1, 2]
    names = {r.info.run_name for r in mlflow_runs(tmp_path, "image")}
    trials = {n for n in names if not n.startswith("ensemble-")}
    assert trials == {"image", "trial-0", "trial-1", "trial-2"}

    done = cli("run", "task=image", "trials=3", "epochs=2")
    assert done.returncode == 0 and "nothing to run" in done.stdout
    assert len(load(tmp_path).get_trials()) == 3

    other_seed = cli("run", "task=image", "trials=4", "seed=1")
    assert_usage_error(other_seed, "study 'image' was created with seed=0")
    assert len(load(tmp_path).get_trials()) == 3


MISTAKES = [
    (("task=speach",), ("unknown task 'speach'; installed:", "image")),
    (("task=image", "trails=3"), ("unknown key 'trails'; valid:", "trials")),
    (("task=image", "trials=many"), ("invalid value 'many' for trials: expected an integer",)),
    (("task=image", "trials=-2"), ("invalid trials=-2: must be at least 1",)),
    (("task=image", "space=bad.yaml"), ("malformed YAML in bad.yaml",)),
    (("task=image", "data_dir=missing"), ("data_dir 'missing' does not exist",)),
    (("task=image", "sampler=grid"), ("invalid sampler 'grid'; choose from",)),
    (("task=image", "init=he"), ("invalid value 'he' for init; choose from lazy, scaled",)),
    (("task=image", "storage=nowhere"), ("invalid storage 'nowhere'",)),
    (("task=image", "trials"), ("expected key=value, got 'trials'",)),
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


@pytest.mark.slow
def test_a_mistake_through_the_real_command(cli: Cli, tmp_path: Path) -> None:
    assert_usage_error(cli("run", "task=image", "trials=-2"), "invalid trials=-2")
    assert_usage_error(cli("frob"), "invalid choice: 'frob'")
    assert not (tmp_path / "ldnn_tune.db").exists()


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
    result = cli("space", "task=image", "lr=0.2", "space=mine.yaml")
    assert result.returncode == 0, result.stderr
    lines = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert "fixed 0.2" in lines["lr"]
    assert "one of 8, 128" in lines["width"]
    assert "init in ['scaled']" in lines["init_scale"]
    assert not (tmp_path / "ldnn_tune.db").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_ui_serves_the_mlflow_ui_on_localhost(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [CLI, "ui", f"port={port}"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                    assert "mlflow" in page.read().decode().lower()
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "MLflow UI did not come up"
                time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["port=99999"], "invalid port=99999"),
        (["colour=red"], "unknown key 'colour'; valid: mlflow, port"),
    ],
)
def test_ui_rejects_bad_input(
    capsys: pytest.CaptureFixture[str], words: list[str], needle: str
) -> None:
    code = main(["ui", *words])
    captured = capsys.readouterr()
    assert_usage_error(subprocess.CompletedProcess([], code, captured.out, captured.err), needle)
