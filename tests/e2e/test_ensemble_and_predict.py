"""Ensembles of a real study, saved to MLflow and used from a fresh process."""

import json
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch
from mlflow.tracking import MlflowClient
from PIL import Image
from sklearn.datasets import load_digits

from ldnn_tune.errors import number_ranges
from ldnn_tune.names import ENSEMBLE_ARTIFACT, TRIAL_RUN_ATTR
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("study")
    result = run_cli(
        cwd,
        "run",
        "task=image",
        "trials=3",
        "epochs=4",
        "top_k=5",
        "ensemble=greedy",
        "init=scaled",
    )
    assert result.returncode == 0, result.stderr
    assert "only 3 complete trial(s); ensembling what there is" in result.stdout
    assert "best single" in result.stdout and "greedy" in result.stdout
    digits = load_digits()
    for i in range(5):
        pixels = (digits.images[i] * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels).save(cwd / f"digit{i}_{digits.target[i]}.png")
    return cwd


def mlflow_uri(cwd: Path) -> str:
    """Return the study's MLflow store by its absolute path (MLflow caches a store per URI)."""
    return f"sqlite:///{cwd / 'mlflow.db'}"


def ensemble_run(cwd: Path) -> str:
    client = MlflowClient(mlflow_uri(cwd))
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`ldnn_tune.role` = 'ensemble'"
    )
    assert runs
    return str(runs[0].info.run_id)


def copy_of(study_dir: Path, tmp_path: Path) -> Path:
    """Return a copy of the shared study's folder, for a test that damages what it holds."""
    copy = tmp_path / "copy"
    shutil.copytree(study_dir, copy)
    return copy


def work_in_copy(
    study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, tuple[str, str]]:
    """Work in a copy of the shared study's folder; return it and its store words."""
    copy = copy_of(study_dir, tmp_path)
    monkeypatch.chdir(copy)
    return copy, (f"storage=sqlite:///{copy}/ldnn_tune.db", f"mlflow={mlflow_uri(copy)}")


def best_trial(copy: Path) -> optuna.trial.FrozenTrial:
    """Return the best trial of the study in folder ``copy``."""
    return optuna.load_study(
        study_name="image", storage=f"sqlite:///{copy}/ldnn_tune.db"
    ).best_trial


def saved_run(out: str) -> str | None:
    """Return the run id an ensemble's output says it is saved in."""
    found = re.search(r"ensemble (?:saved )?in MLflow run (\w+)", out)
    return found.group(1) if found else None


@pytest.mark.slow
def test_ensemble_run_is_logged_under_the_study(study_dir: Path) -> None:
    client = MlflowClient(f"sqlite:///{study_dir / 'mlflow.db'}")
    run = client.get_run(ensemble_run(study_dir))
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{study_dir}/ldnn_tune.db")
    complete = {t.number for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
    assert run.data.params["method"] == "greedy"
    assert {int(n) for n in run.data.params["members"].split(",")} <= complete
    assert {"single_test_acc", "average_test_acc", "greedy_test_acc", "greedy_test_loss"} <= set(
        run.data.metrics
    )
    # the chosen ensemble's scores under a trial's names too, for the runs table's columns
    assert run.data.metrics["test_acc"] == run.data.metrics["greedy_test_acc"]
    assert run.data.metrics["best_val_loss"] == run.data.metrics["greedy_val_loss"]
    assert run.data.tags["mlflow.parentRunId"] == study.user_attrs["mlflow_parent_run_id"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "ensemble")}
    assert "ensemble/bundle.json" in artifacts
    manifest = json.loads(
        Path(client.download_artifacts(run.info.run_id, ENSEMBLE_ARTIFACT)).read_text()
    )
    weights = dict(pair.split(":") for pair in run.data.params["weights"].split(","))
    # its members are the method's, weighted; the trials only other methods took are apart
    assert {str(m["trial"]): str(m["weight"]) for m in manifest["members"]} == weights
    assert all(str(m["trial"]) not in weights for m in manifest["not_taken"])


@pytest.mark.slow
def test_predict_from_a_run_id_in_a_fresh_process(study_dir: Path) -> None:
    result = run_cli(
        study_dir,
        "predict",
        f"model={ensemble_run(study_dir)}",
        "input=digit0_0.png,digit1_1.png",
        "output=out.csv",
    )
    assert result.returncode == 0, result.stderr
    rows = (study_dir / "out.csv").read_text().splitlines()
    assert rows[0] == "input,prediction,score,error"
    assert len(rows) == 3


@pytest.mark.slow
def test_predict_from_a_bundle_folder_without_the_study(study_dir: Path, tmp_path: Path) -> None:
    client = MlflowClient(f"sqlite:///{study_dir / 'mlflow.db'}")
    bundle = client.download_artifacts(ensemble_run(study_dir), "ensemble", str(tmp_path))
    for image in study_dir.glob("digit*.png"):
        (tmp_path / image.name).write_bytes(image.read_bytes())
    result = run_cli(tmp_path, "predict", f"model={bundle}", "input=.", "output=p.csv")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "ldnn_tune.db").exists()
    rows = [r.split(",") for r in (tmp_path / "p.csv").read_text().splitlines()[1:]]
    predicted = {Path(path).name: label for path, label, *_ in rows if "digit" in path}
    assert len(predicted) == 5
    right = sum(label == name.split("_")[1][0] for name, label in predicted.items())
    assert right >= 3


@pytest.mark.slow
def test_ensemble_command_and_its_mistakes(
    study_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    again = run_cli(study_dir, "ensemble", "study=image", "top_k=2", "method=average")
    assert again.returncode == 0, again.stderr
    assert "ensembles against the best single trial" in again.stdout
    assert "│ average" in again.stdout and "│ greedy" not in again.stdout  # the method asked
    optuna.create_study(study_name="empty", storage=f"sqlite:///{study_dir}/ldnn_tune.db")
    monkeypatch.chdir(study_dir)
    stores = (f"storage=sqlite:///{study_dir}/ldnn_tune.db", f"mlflow={mlflow_uri(study_dir)}")
    # the same ensemble again is the run logged before; another top_k is a new one
    words = ["ensemble", "study=image", "method=average", *stores]
    same = run_main([*words, "top_k=2"], capsys)
    assert saved_run(same.stdout) == saved_run(again.stdout)
    assert f"ensemble in MLflow run {saved_run(same.stdout)} (logged before" in same.stdout
    other = run_main([*words, "top_k=3"], capsys)
    assert saved_run(other.stdout) not in (saved_run(again.stdout), None)
    for words, needle in [
        (("study=image", "top_k=0"), "invalid top_k=0"),
        (("study=nope",), "unknown study 'nope'"),
        (("study=empty",), "study 'empty' has no complete trial"),
        (
            ("study=image", "method=vote"),
            "invalid method 'vote'; choose from average, greedy, seeds",
        ),
    ]:  # in this process: the real command's own run above paid the start-up once
        assert_usage_error(run_main(["ensemble", *words, *stores], capsys), needle)


@pytest.mark.slow
def test_a_trial_whose_mlflow_run_was_deleted_is_left_out(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy, stores = work_in_copy(study_dir, tmp_path, monkeypatch)
    best = best_trial(copy)
    MlflowClient(mlflow_uri(copy)).delete_run(best.user_attrs[TRIAL_RUN_ATTR])  # in the UI
    result = run_main(["ensemble", "study=image", "method=average", *stores], capsys)
    assert result.returncode == 0, result.stderr
    assert f"note: left out trial {best.number}: its MLflow run was deleted" in result.stdout
    named = run_main(["ensemble", "study=image", f"trials={best.number}", *stores], capsys)
    assert_usage_error(named, f"invalid trials={best.number}: trial {best.number}'s MLflow run")


def artifacts_of(folder: Path, run_id: str) -> Path:
    """Return the artifact folder of run ``run_id`` in the MLflow store kept in ``folder``."""
    (found,) = folder.glob(f"mlruns/*/{run_id}/artifacts")
    return found


@pytest.mark.slow
def test_runs_whose_files_are_gone_are_left_out_or_logged_again(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Files removed by hand from the artifact store: named, never MLflow's raw error."""
    copy, stores = work_in_copy(study_dir, tmp_path, monkeypatch)
    best = best_trial(copy)
    (artifacts_of(copy, best.user_attrs[TRIAL_RUN_ATTR]) / "model.pt").unlink()
    result = run_main(["ensemble", "study=image", "method=average", *stores], capsys)
    assert result.returncode == 0, result.stderr
    note = f"note: left out trial {best.number}: its MLflow run has lost the files it saved"
    assert note in result.stdout
    named = run_main(["ensemble", "study=image", f"trials={best.number}", *stores], capsys)
    assert_usage_error(named, "has lost the files it saved (predictions.npz, model.pt")
    run_id = saved_run(result.stdout)
    assert run_id is not None
    shutil.rmtree(artifacts_of(copy, run_id) / "ensemble")
    words = [f"model={run_id}", "input=digit0_0.png", f"mlflow={mlflow_uri(copy)}"]
    gone = "is an ensemble run whose files are gone (no ensemble/ artifact in"
    assert_usage_error(run_main(["predict", *words], capsys), gone)
    again = run_main(["ensemble", "study=image", "method=average", *stores], capsys)
    assert again.returncode == 0, again.stderr
    assert saved_run(again.stdout) not in (run_id, None)  # logged again, not "logged before"
    assert "logged before" not in again.stdout


@pytest.mark.slow
def test_predict_writes_a_file_name_that_is_not_utf8_as_its_bytes(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a latin-1 name: the CSV writer failed after the table, leaving only its header
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    named = bytes(inputs) + b"/digit_\xe9.png"
    with open(named, "wb") as handle:
        handle.write((study_dir / "digit0_0.png").read_bytes())
    monkeypatch.chdir(tmp_path)
    words = [f"model={ensemble_run(study_dir)}", f"input={inputs}", "output=out.csv"]
    result = run_main(["predict", *words, f"mlflow={mlflow_uri(study_dir)}"], capsys)
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "out.csv").read_bytes().splitlines()
    assert len(rows) == 2, rows
    assert b"digit_\xe9.png" in rows[1]  # the name's own bytes, as the file system has it


@pytest.mark.slow
def test_ensemble_of_a_study_whose_experiment_was_deleted_restores_it_and_says_so(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy, stores = work_in_copy(study_dir, tmp_path, monkeypatch)
    assert run_main(["report", "study=image", "format=md", *stores], capsys).returncode == 0
    client = MlflowClient(mlflow_uri(copy))  # the copy's store points at its own files now
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    client.delete_experiment(experiment.experiment_id)  # in the UI
    result = run_main(["ensemble", "study=image", "method=average", *stores], capsys)
    assert result.returncode == 0, result.stderr
    assert "note: the study's MLflow experiment 'image' had been deleted; restored it" in (
        result.stdout
    )
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "active"


@pytest.mark.slow
def test_predict_mistakes(
    study_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (study_dir / "broken.png").write_text("not an image")
    run_id = ensemble_run(study_dir)
    monkeypatch.chdir(study_dir)
    store = f"mlflow={mlflow_uri(study_dir)}"
    for words, needle in [
        ((f"model={run_id}", "input=missing.png"), "input 'missing.png' does not exist"),
        ((f"model={run_id}", "input=broken.png"), "cannot read image"),
        (("model=nothing", "input=broken.png"), "model 'nothing' is neither"),
        (("input=broken.png",), "missing model="),
    ]:
        assert_usage_error(run_main(["predict", *words, store], capsys), needle)
    trial = optuna.load_study(study_name="image", storage=f"sqlite:///{study_dir}/ldnn_tune.db")
    first = trial.trials[0]
    words = [f"model={first.user_attrs[TRIAL_RUN_ATTR]}", "input=digit0_0.png", store]
    assert_usage_error(
        run_main(["predict", *words], capsys),
        f"is trial {first.number}'s run, not an ensemble's; make an ensemble of that trial "
        f"alone: ldnn-tune ensemble study=image trials={first.number}",
    )


@pytest.mark.slow
def test_a_bundle_given_by_its_manifest_or_the_folder_above_says_which_folder(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = MlflowClient(mlflow_uri(study_dir))
    client.download_artifacts(ensemble_run(study_dir), "ensemble", str(tmp_path))
    monkeypatch.chdir(study_dir)
    for model, needle in [
        (tmp_path / "ensemble" / "bundle.json", f"give its folder, model={tmp_path / 'ensemble'}"),
        (tmp_path, f"give its ensemble/ folder, model={tmp_path / 'ensemble'}"),
    ]:
        result = run_main(["predict", f"model={model}", "input=digit0_0.png"], capsys)
        assert_usage_error(result, needle)


@pytest.mark.slow
def test_a_damaged_bundle_of_a_run_names_the_run_not_a_scratch_copy(
    study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = copy_of(study_dir, tmp_path)
    run_id = ensemble_run(copy)
    (manifest,) = copy.glob(f"mlruns/*/{run_id}/artifacts/ensemble/bundle.json")
    manifest.write_text("{not json")
    monkeypatch.chdir(copy)
    words = [f"model={run_id}", "input=digit0_0.png", f"mlflow={mlflow_uri(copy)}"]
    result = run_main(["predict", *words], capsys)
    assert_usage_error(
        result, f"the ensemble/ artifact of run {run_id}/bundle.json: not a bundle manifest"
    )


def tampered(bundle: Path, where: Path, how: str) -> Path:
    """Return a copy of ``bundle`` in ``where`` damaged in the way ``how`` names."""
    copy = where / how
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "bundle.json").read_text())
    member = copy / f"member-{manifest['members'][0]['trial']}.pt"
    if how == "truncated-weights":
        member.write_bytes(member.read_bytes()[:100])
    elif how == "pickle-not-weights":
        member.write_bytes(pickle.dumps(Shout()))
    elif how == "truncated-manifest":
        (copy / "bundle.json").write_text(json.dumps(manifest)[:50])
    elif how == "path-in-member":
        manifest["members"][0]["trial"] = "../../etc/passwd"
        (copy / "bundle.json").write_text(json.dumps(manifest))
    elif how == "other-width":
        state = torch.load(member, weights_only=True)
        name = next(k for k, v in state.items() if v.ndim == 4)
        state[name] = torch.zeros(3, *state[name].shape[1:])
        torch.save(state, member)
    elif how == "old-format":
        manifest["format"] = 1
        (copy / "bundle.json").write_text(json.dumps(manifest))
    return copy


class Shout:
    """What a hostile pickle would run on load."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this pickle ran code",))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "needle"),
    [
        ("truncated-weights", "not readable weights"),
        ("pickle-not-weights", "not readable weights"),
        ("truncated-manifest", "not a bundle manifest"),
        ("path-in-member", "member trial '../../etc/passwd' is not a trial number"),
        ("other-width", "the weights do not fit the task's model (size mismatch for net."),
        ("old-format", "bundle format 1; this ldnn-tune reads formats 2, 3, 4"),
    ],
)
def test_a_damaged_or_hostile_bundle_is_one_line(
    study_dir: Path,
    tmp_path: Path,
    how: str,
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = MlflowClient(f"sqlite:///{study_dir / 'mlflow.db'}")
    bundle = Path(client.download_artifacts(ensemble_run(study_dir), "ensemble", str(tmp_path)))
    damaged = tampered(bundle, tmp_path, how)
    monkeypatch.chdir(study_dir)
    result = run_main(["predict", f"model={damaged}", "input=digit0_0.png"], capsys)
    assert_usage_error(result, needle)
    assert "this pickle ran code" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("output", "needle"),
    [("nofolder/p.csv", "folder 'nofolder' does not exist"), (".", "it is a folder")],
)
def test_an_output_that_cannot_be_written_is_refused_first(
    study_dir: Path,
    output: str,
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(study_dir)
    words = ["predict", f"model={ensemble_run(study_dir)}", "input=digit0_0.png"]
    assert_usage_error(run_main([*words, f"output={output}"], capsys), needle)


@pytest.mark.slow
def test_named_trials_make_an_ensemble_to_predict_with(
    study_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{study_dir}/ldnn_tune.db")
    complete = sorted(t.number for t in study.trials if t.state.name == "COMPLETE")
    worst = max(complete, key=lambda n: study.trials[n].value)
    monkeypatch.chdir(study_dir)
    stores = (f"storage=sqlite:///{study_dir}/ldnn_tune.db", f"mlflow={mlflow_uri(study_dir)}")
    words = ["ensemble", "study=image", *stores]
    alone = run_main([*words, f"trials={worst}"], capsys)
    assert alone.returncode == 0, alone.stderr
    assert f"│ trials      │ {worst} " in alone.stdout and "│ seeds" not in alone.stdout
    assert "only " not in alone.stdout  # top_k ranks nothing here
    run = MlflowClient(mlflow_uri(study_dir)).get_run(str(saved_run(alone.stdout)))
    assert run.info.run_name == "ensemble-trials"
    assert (run.data.params["method"], run.data.params["members"]) == ("trials", str(worst))
    # another set of trials, even of the same top_k pool, is another run; the same, the same
    pair = run_main([*words, f"trials={complete[0]},{complete[-1]}"], capsys)
    assert saved_run(pair.stdout) not in (saved_run(alone.stdout), None)
    assert saved_run(run_main([*words, f"trials={worst}"], capsys).stdout) == saved_run(
        alone.stdout
    )
    predicted = run_main(
        ["predict", f"model={saved_run(alone.stdout)}", "input=digit0_0.png"], capsys
    )
    assert predicted.returncode == 0, predicted.stderr
    assert "digit0_0.png" in predicted.stdout
    for bad, needle in [
        (
            "trials=99",
            "invalid trials=99: trial 99 of study 'image' is not complete; its complete "
            f"trials are {number_ranges(complete)}",
        ),
        ("trials=3,x", "invalid trials='3,x': give trial numbers separated by commas"),
        ("trials=-1", "invalid trials='-1'"),
        ("trials=2,2", "invalid trials=2,2: trial 2 is named twice"),
    ]:
        assert_usage_error(run_main([*words, bad], capsys), needle)
    assert_usage_error(
        run_main([*words, f"trials={worst}", "method=greedy"], capsys),
        "trials= names the members itself; drop method=greedy",
    )
