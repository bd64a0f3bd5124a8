"""The real ``ldnn-tune`` command in a subprocess, with real SQLite and MLflow stores."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from helpers import TINY_RUN, Cli, load_study, mlflow_client
from ldnn_tune_image import ImageOptions, ImageTask
from PIL import Image
from sklearn.datasets import load_digits

from ldnn_tune import HParams
from ldnn_tune.testing.cli import assert_usage_error, run_main
from ldnn_tune.tracking import trial_run_name


def mlflow_runs(cwd: Path, experiment: str) -> list:  # type: ignore[type-arg]
    client = mlflow_client(cwd)
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    return client.search_runs([found.experiment_id])


@pytest.mark.slow
def test_run_image_end_to_end_then_continue(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = cli("run", "task=image", *TINY_RUN)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "best trials of study 'image'" in out
    assert "browse every trial in the MLflow UI: ldnn-tune ui study=image\n" in out
    assert "trial 0 COMPLETE val_loss " in out  # one plain line per trial when redirected
    for chatter in ("GPU available", "LitLogger", "Trial 0 finished", "INFO"):
        assert chatter not in out + result.stderr

    assert not list(tmp_path.glob("*.db-*"))  # no -wal or -shm file left beside the stores
    model = re.search(r"predict with: ldnn-tune predict model=(\w+)", out)
    assert model is not None
    digit = (load_digits().images[0] * 255 / 16).astype(np.uint8)
    Image.fromarray(digit).save(tmp_path / "digit.png")
    predicted = cli("predict", f"model={model.group(1)}", "input=digit.png")
    assert predicted.returncode == 0, predicted.stderr
    assert not list(tmp_path.glob("*.db-*"))  # nor after a command that only reads them
    refused = cli("predict", f"model={model.group(1)}", "input=nope.png")
    assert refused.returncode == 2 and "input 'nope.png' does not exist" in refused.stderr
    assert not list(tmp_path.glob("*.db-*"))  # nor after one refused once it checked them
    copy = tmp_path / "copy"  # the .db files alone hold the study: the logs were folded in
    copy.mkdir()
    for name in ("ldnn_tune.db", "mlflow.db"):
        shutil.copy(tmp_path / name, copy / name)
    assert len(load_study(copy).trials) == 2 and mlflow_runs(copy, "image")

    study = load_study(tmp_path)
    trials = study.get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert study.metric_names == ["val_loss"]  # optuna-dashboard's name for the objective
    first = trials[0]
    assert first.params["lr"] == 0.1 and first.params["init"] == "scaled"
    assert first.params["batch_size"] == 128
    assert {"val_acc", "test_acc", "mlflow_run_id", "seed"} <= set(first.user_attrs)

    runs = {r.info.run_name: r for r in mlflow_runs(tmp_path, "image")}
    parent = runs["image"]
    assert parent.data.params["sampler"] == "tpe"
    assert parent.data.params["average_epochs"] == "1"
    assert parent.info.status == "FINISHED"
    child = runs[trial_run_name(0, "COMPLETE")]
    assert child.info.run_id == first.user_attrs["mlflow_run_id"]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.tags["optuna.state"] == "COMPLETE"
    assert child.data.params["lr"] == "0.1"
    # the command's settings it trained under, which a continuing command may change
    assert (child.data.params["run.epochs"], child.data.params["run.sampler"]) == ("2", "tpe")
    client = mlflow_client(tmp_path)
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
        "averaged_epochs",
    } <= set(child.data.metrics)
    for trial in trials:  # Optuna's value, its val_loss attribute, MLflow's: one number
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert trial.user_attrs["val_loss"] == run.data.metrics["best_val_loss"] == trial.value
        # why it stopped training, beside the reason a pruned trial's run has
        assert run.data.tags["ldnn_tune.reason"] == trial.user_attrs["stop_reason"] != ""
    npz = client.download_artifacts(child.info.run_id, "predictions.npz", str(tmp_path))
    with np.load(npz) as predictions:
        assert predictions["val_predictions"].shape == (len(predictions["val_targets"]), 10)
        assert predictions["test_predictions"].shape[0] == len(predictions["test_targets"])
        saved_test = predictions["test_predictions"]
    # the README's export: the net rebuilt from hparams.json and model.pt gives the same
    best = tmp_path / "best"
    for name in ("hparams.json", "model.pt"):
        client.download_artifacts(child.info.run_id, name, str(best))
    saved = json.loads((best / "hparams.json").read_text())
    task = ImageTask(ImageOptions(**saved["options"]), None, saved["study_seed"])
    task.prepare()
    net = task.model(HParams.from_params(saved["knobs"]))
    net.load_state_dict(torch.load(best / "model.pt"))
    net.eval()
    with torch.no_grad():
        rebuilt = net(task.split.x_test).softmax(-1).numpy()
    np.testing.assert_allclose(rebuilt, saved_test, atol=1e-5)

    again = cli("run", "task=image", "trials=3", "epochs=2", "reseeds=0", "sampler=random")
    assert again.returncode == 0, again.stderr
    assert "2 of 3 trials finished" in again.stdout
    continued = load_study(tmp_path).get_trials()
    assert [t.number for t in continued] == [0, 1, 2]
    # a continuation draws new knob sets, not the first invocation's again
    assert continued[2].params != continued[1].params
    runs = {r.info.run_name: r for r in mlflow_runs(tmp_path, "image")}
    assert runs[trial_run_name(2, "COMPLETE")].data.params["run.sampler"] == "random"
    assert runs["image"].data.params["sampler"] == "tpe"  # the study's first command's
    names = set(runs)
    trials = {n for n in names if not n.startswith("ensemble-")}
    assert trials == {"image", *(trial_run_name(n, "COMPLETE") for n in range(3))}

    # in this process (the real command ran above): no trial to run, or a usage error
    monkeypatch.chdir(tmp_path)
    stores = (
        f"storage=sqlite:///{tmp_path}/ldnn_tune.db",
        f"mlflow=sqlite:///{tmp_path}/mlflow.db",
    )
    done = run_main(["run", "task=image", "trials=3", "epochs=2", "reseeds=0", *stores], capsys)
    assert done.returncode == 0 and "nothing to run" in done.stdout
    assert len(load_study(tmp_path).get_trials()) == 3
    history = [command for _, command in load_study(tmp_path).user_attrs["ldnn_tune_commands"]]
    assert len(history) == 3  # the first command, its continuation, and this one
    assert "sampler=random" in history[1] and history[2].endswith(" ".join(stores))

    other_seed = run_main(["run", "task=image", "trials=4", "seed=1", *stores], capsys)
    assert_usage_error(other_seed, "study 'image' was created with seed=0")
    assert len(load_study(tmp_path).get_trials()) == 3


@pytest.mark.slow
def test_a_mistake_through_the_real_command(cli: Cli, tmp_path: Path) -> None:
    assert_usage_error(cli("run", "task=image", "trials=-2"), "invalid trials=-2")
    assert_usage_error(cli("frob"), "unknown command 'frob'")
    assert_usage_error(cli("rnu"), "unknown command 'rnu' (did you mean 'run'?)")
    assert not (tmp_path / "ldnn_tune.db").exists()


@pytest.mark.slow
def test_timeout_ends_the_command_and_says_how_to_continue(cli: Cli, tmp_path: Path) -> None:
    # 60 s: start-up (importing torch and Lightning) alone takes 8-13 s here on a cold
    # page cache, the last 8 s are kept for the ensemble and the report, and a first
    # epoch must end before the deadline on a CI machine several times slower than this
    result = cli("run", "task=image", "trials=500", "epochs=50", "timeout=60")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    # reached, or the next trial would not reach its first epoch before the deadline
    assert re.search(r"timeout 60 (reached|leaves no time for another trial) after", out)
    assert "of 500 trials" in out
    assert "run the same command again to continue" in out
    study = load_study(tmp_path)
    assert 0 < len(study.trials) < 500
    client = mlflow_client(tmp_path)
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    parent = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'study'"
    )[0]
    phases = {k for k in parent.data.metrics if k.startswith("time_")}
    assert {"time_startup_s", "time_trials_s", "time_ensemble_s", "time_total_s"} <= phases
