"""Storages: one-line errors that leave studies untouched, heartbeats, the exact-total guard."""

import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import optuna
import pytest
from helpers import Cli
from PIL import Image

from ldnn_tune.names import IDENTITY_ATTR, REASON_ATTR
from ldnn_tune.study.loop import is_surplus
from ldnn_tune.study.queries import trial_counts
from ldnn_tune.study.recovery import DEAD_WORKER, fail_stale_trials
from ldnn_tune.study.storages import make_storage
from ldnn_tune.testing.cli import assert_usage_error, run_main
from ldnn_tune.urls import redact

TrialState = optuna.trial.TrialState


def run_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *words: str
) -> subprocess.CompletedProcess[str]:
    monkeypatch.chdir(tmp_path)
    return run_main(["run", "task=image", "check=false", *words], capsys)


BAD_STORAGES = [
    ("storage=postgresql://nobody@127.0.0.1:1/x", "cannot open storage 'postgresql://nobody@"),
    ("storage=postgresql://me:secret@127.0.0.1:1/x", "'postgresql://me:***@127.0.0.1:1/x'"),
    ("storage=redis://127.0.0.1:1/0", "cannot open storage 'redis://127.0.0.1:1/0'"),
    ("storage=mysql:/x", "invalid storage 'mysql:/x'"),
    ("n_jobs=0", "invalid n_jobs=0: must be at least 1"),
    ("heartbeat=0", "invalid heartbeat=0: must be at least 1"),
    ("heartbeat=86401", "invalid heartbeat=86401: must be at most 86400 (a day)"),
]


@pytest.mark.parametrize(("word", "needle"), BAD_STORAGES)
def test_bad_storage_or_workers_is_one_line_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    word: str,
    needle: str,
) -> None:
    result = run_image(tmp_path, monkeypatch, capsys, word)
    assert_usage_error(result, needle)
    assert "secret" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_wrong_credentials_on_the_real_server(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = postgres_url.replace("postgres@", "nobody@")
    result = run_image(tmp_path, monkeypatch, capsys, f"storage={url}")
    assert_usage_error(result, "cannot open storage", 'role "nobody" does not exist')


def study_state(study: optuna.Study) -> tuple[object, ...]:
    """Return what a refused command must leave as it was: attributes (metric names too), trials."""
    system = study._storage.get_study_system_attrs(study._study_id)
    return study.user_attrs, system, [(t.number, t.state) for t in study.trials]


@pytest.mark.parametrize(
    ("identity", "direction", "needle"),
    [
        ({"task": "speech"}, "minimize", "was created with task='speech', not 'image'"),
        (None, "maximize", "has direction maximize, not minimize"),
    ],
)
def test_a_study_of_another_task_or_direction_is_refused_and_untouched(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    identity: dict[str, str] | None,
    direction: str,
    needle: str,
) -> None:
    name = f"other-{uuid.uuid4().hex[:8]}"
    study = optuna.create_study(study_name=name, storage=postgres_url, direction=direction)
    if identity is not None:
        study.set_user_attr(IDENTITY_ATTR, identity)
    study.enqueue_trial({"x": 1})
    before = study_state(study)
    result = run_image(tmp_path, monkeypatch, capsys, f"study={name}", f"storage={postgres_url}")
    assert_usage_error(result, needle)
    assert study_state(optuna.load_study(study_name=name, storage=postgres_url)) == before
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
@pytest.mark.parametrize("kind", ["journal", "redis"])
def test_a_silent_trial_is_failed_and_retried_once(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    journal = f"journal:{tmp_path / 'j.log'}"
    url = journal if kind == "journal" else request.getfixturevalue("redis_url")
    study = optuna.create_study(storage=make_storage(url, heartbeat=1))
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    study._storage.record_heartbeat(trial._trial_id)  # type: ignore[attr-defined]
    time.sleep(1.5)
    fail_stale_trials(study)
    assert trial_counts(study) == (0, 1)  # 1.5 s of silence is within the 3 s grace
    time.sleep(2.0)
    fail_stale_trials(study)
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.WAITING]
    assert study.trials[0].user_attrs[REASON_ATTR] == DEAD_WORKER
    retry = study.ask()
    assert retry.number == 1 and retry.suggest_float("x", 0, 1) == trial.params["x"]


def test_the_sqlite_default_gets_heartbeats(tmp_path: Path) -> None:
    storage = make_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat=7)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 7 and storage.grace_period == 21


def test_a_trial_beyond_the_total_is_surplus(tmp_path: Path) -> None:
    study = optuna.create_study(storage=make_storage(f"journal:{tmp_path / 'j.log'}"))
    first, second, third = study.ask(), study.ask(), study.ask()
    study.tell(first, 1.0)
    assert not is_surplus(second, total=2)
    assert is_surplus(third, total=2)  # trials 0 and 1 take the total of 2


def test_a_trial_numbered_below_the_total_is_not_surplus_without_a_read(tmp_path: Path) -> None:
    """Numbers are dense from 0, so fewer than ``total`` trials come before such a trial."""
    study = optuna.create_study(storage=make_storage(f"sqlite:///{tmp_path / 's.db'}"))
    failed = study.ask()
    study.tell(failed, state=TrialState.FAIL)  # a failed trial does not count: 1 is not over
    trial = study.ask()
    reads: list[object] = []
    storage = study._storage
    real = storage.get_all_trials
    storage.get_all_trials = lambda *a, **k: reads.append(a) or real(*a, **k)  # type: ignore[method-assign]
    assert not is_surplus(trial, total=2)
    assert reads == []
    assert not is_surplus(trial, total=1)  # trial 1 with total 1: read, and trial 0 failed
    assert len(reads) == 1


def test_redact_hides_passwords() -> None:
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("sqlite:///x.db") == "sqlite:///x.db"


def test_a_study_made_before_an_option_existed_continues_at_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_image(tmp_path, monkeypatch, capsys, "trials=1", "epochs=1", "ensemble=none")
    assert first.returncode == 0, first.stderr
    storage = f"sqlite:///{tmp_path}/ldnn_tune.db"
    study = optuna.load_study(study_name="image", storage=storage)
    identity = dict(study.user_attrs[IDENTITY_ATTR])
    identity["options"] = {k: v for k, v in identity["options"].items() if k != "color"}
    study.set_user_attr(IDENTITY_ATTR, identity)  # as if `color` came in a later release
    # the option's default, given: equal to the stored identity's missing value
    words = ("trials=2", "epochs=1", "color=false", "ensemble=none")
    again = run_image(tmp_path, monkeypatch, capsys, *words)
    assert again.returncode == 0, again.stderr
    assert len(optuna.load_study(study_name="image", storage=storage).trials) == 2


def write_images(folder: Path, per_class: int) -> None:
    rng = np.random.default_rng(0)
    for label in range(2):
        (folder / f"class{label}").mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            pixels = rng.integers(0, 255, (8, 8), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"class{label}" / f"{index}.png")


def test_a_study_whose_data_dir_files_changed_is_refused_and_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "imgs", per_class=6)
    words = ("data_dir=imgs", "epochs=1", "ensemble=none")
    first = run_image(tmp_path, monkeypatch, capsys, "trials=1", *words)
    assert first.returncode == 0, first.stderr
    (tmp_path / "imgs" / ".DS_Store").write_bytes(b"\0")  # hidden files are not data
    (tmp_path / "imgs" / "class0" / "Thumbs.db").write_bytes(b"\0")  # nor Windows' thumbnails
    (tmp_path / "imgs" / "notes.txt").write_text("scanned 2026-11")  # nor a kind it does not read
    same = run_image(tmp_path, monkeypatch, capsys, "trials=2", *words)
    assert same.returncode == 0, same.stderr
    write_images(tmp_path / "imgs", per_class=8)  # two more images in each class
    changed = run_image(tmp_path, monkeypatch, capsys, "trials=3", *words)
    assert_usage_error(
        changed, "was created with other data: the data_dir's files changed since (12 files,"
    )
    assert "; now 16 files," in changed.stderr
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{tmp_path}/ldnn_tune.db")
    assert len(study.trials) == 2


def test_a_journal_cut_short_mid_line_is_mended_before_the_next_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    words = ("storage=journal:j.log", "epochs=1", "ensemble=none")
    first = run_image(tmp_path, monkeypatch, capsys, "trials=1", *words)
    assert first.returncode == 0, first.stderr
    fragment = b'{"op_code": 5, "worker_id": "x", "trial_id": 1'  # a crash mid-write
    with (tmp_path / "j.log").open("ab") as journal:
        journal.write(fragment)
    again = run_image(tmp_path, monkeypatch, capsys, "trials=2", *words)
    assert again.returncode == 0, again.stderr
    assert "note: the last line of 'j.log' was cut short" in again.stdout
    assert (tmp_path / "j.log.cut").read_bytes() == fragment + b"\n"
    study = optuna.load_study(study_name="image", storage=make_storage("journal:j.log"))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2


def test_a_study_continued_without_its_mlflow_store_is_refused_and_nothing_is_made(
    cli: Cli, tmp_path: Path
) -> None:
    words = ("task=image", "check=false", "epochs=1", "ensemble=none")
    first = cli("run", *words, "trials=1")
    assert first.returncode == 0, first.stderr
    (tmp_path / "mlflow.db").rename(tmp_path / "kept.db")
    again = cli("run", *words, "trials=2")
    assert_usage_error(again, "study 'image' was logged to an MLflow store that holds its run")
    assert not (tmp_path / "mlflow.db").exists()
    other = cli("run", *words, "study=other", "trials=1")
    assert other.returncode == 0, other.stderr  # a new mlflow.db, of another study
    again = cli("run", *words, "trials=2")
    assert_usage_error(again, "and mlflow=sqlite:///mlflow.db does not; give that store")
    assert_usage_error(cli("ensemble", "study=image"), "give that store")


def test_a_study_moved_with_its_data_dir_continues_and_predicts_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    write_images(project / "imgs", per_class=6)
    words = ("data_dir=imgs", "epochs=1", "reseeds=0")
    first = run_image(project, monkeypatch, capsys, "trials=1", *words)
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.split("ldnn-tune predict model=")[1].split()[0]
    project.rename(tmp_path / "moved")
    moved = tmp_path / "moved"
    again = run_image(moved, monkeypatch, capsys, "trials=2", *words, "ensemble=none")
    assert again.returncode == 0, again.stderr  # the same files, at another path
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{moved}/ldnn_tune.db")
    assert len(study.trials) == 2
    assert study.user_attrs[IDENTITY_ATTR]["data_dir"] == str(moved / "imgs")
    image = str(next((moved / "imgs" / "class0").iterdir()))
    gone = run_main(["predict", f"model={run_id}", f"input={image}"], capsys)
    assert_usage_error(gone, "does not exist", "give data_dir=WHERE_IT_IS_NOW")
    found = run_main(["predict", f"model={run_id}", f"input={image}", "data_dir=imgs"], capsys)
    assert found.returncode == 0, found.stderr
    assert "class0" in found.stdout or "class1" in found.stdout
