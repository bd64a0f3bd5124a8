"""Benchmark: the default `ldnn-tune run task=image` against an RBF SVM on the same split.

For each split seed, runs the real command in a temporary directory (the seeds run at
once, one core each when ``--parallel``), reads the study and its ensemble run back from
the stores, and fits scikit-learn's SVC (RBF kernel, C tuned on the validation split) on
exactly the same standardised train/validation/test split: the baseline, measured in the
same run. Reported: the command's wall time, the best single trial's and the ensemble's
test accuracy, and their ratio to the SVM's.

    python bench/image_digits.py [--seeds 0 1 2] [--parallel] [--keep DIR] [-- words]

``--keep DIR`` runs each seed in ``DIR/seedS`` and leaves it there (e.g. for
bench/calibration.py); otherwise the folders are temporary.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from ldnn_tune_image import ImageOptions, ImageTask
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from sklearn.svm import SVC

CLI = str(Path(sys.executable).with_name("ldnn-tune"))


@dataclass
class Outcome:
    """One seed's study, read back from its stores."""

    seed: int
    wall: float
    complete: int
    pruned: int
    single_test_acc: float
    single_test_nll: float
    ensemble: str
    ensemble_test_acc: float
    ensemble_test_nll: float
    first_val_acc: float
    svm_test_acc: float


def svm_baseline(seed: int) -> tuple[float, float]:
    """Return (validation, test) accuracy of the best-C RBF SVM on the study's split."""
    task = ImageTask(ImageOptions(), None, seed)
    task.prepare()
    s = task.split
    flat = [t.reshape(len(t), -1).numpy() for t in (s.x_train, s.x_val, s.x_test)]
    best = max(
        (SVC(C=c, gamma="scale").fit(flat[0], s.y_train.numpy()) for c in (1, 3, 10, 30)),
        key=lambda m: m.score(flat[1], s.y_val.numpy()),
    )
    return best.score(flat[1], s.y_val.numpy()), best.score(flat[2], s.y_test.numpy())


def start(seed: int, words: list[str], folder: str, core: int | None) -> subprocess.Popen[bytes]:
    """Start ``ldnn-tune run task=image seed=SEED WORDS`` in ``folder``."""
    command = [CLI, "run", "task=image", f"seed={seed}", *words]
    env = dict(os.environ)
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
        env["OMP_NUM_THREADS"] = "1"
    # output to files: a pipe nobody reads while the seeds run could fill and stall one
    out = Path(folder, "out.txt").open("w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)


def seed_folder(parent: Path, seed: int) -> str:
    """Return a new, empty folder ``parent/seedS`` for one seed's run."""
    folder = parent / f"seed{seed}"
    folder.mkdir(parents=True)
    return str(folder)


def read_back(seed: int, folder: str, wall: float) -> Outcome:
    """Read the study and its ensemble run from the stores in ``folder``."""
    study = optuna.load_study(study_name="image", storage=f"sqlite:///{folder}/ldnn_tune.db")
    states = [t.state for t in study.trials]
    run = ensemble_run(folder)
    assert run is not None
    method = run.data.params["method"]
    return Outcome(
        seed=seed,
        wall=wall,
        complete=states.count(optuna.trial.TrialState.COMPLETE),
        pruned=states.count(optuna.trial.TrialState.PRUNED),
        single_test_acc=run.data.metrics["single_test_acc"],
        single_test_nll=run.data.metrics["single_test_loss"],
        ensemble=method,
        ensemble_test_acc=run.data.metrics[f"{method}_test_acc"],
        ensemble_test_nll=run.data.metrics[f"{method}_test_loss"],
        first_val_acc=float(study.trials[0].user_attrs.get("val_acc", float("nan"))),
        svm_test_acc=svm_baseline(seed)[1],
    )


def ensemble_run(folder: str) -> Run | None:
    """Return the ensemble's MLflow run of the image study in ``folder`` (None: none made)."""
    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    experiment = client.get_experiment_by_name("image")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`ldnn_tune.role` = 'ensemble'", max_results=1
    )
    return runs[0] if runs else None


def wait_all(
    running: dict[int, subprocess.Popen[bytes]], folders: dict[int, str], started: float
) -> dict[int, float]:
    """Wait for every process; return each one's wall time from ``started`` to its exit."""
    walls: dict[int, float] = {}
    while len(walls) < len(running):
        for seed, process in running.items():
            if seed not in walls and process.poll() is not None:
                walls[seed] = time.monotonic() - started
                if process.returncode != 0:
                    sys.exit(Path(folders[seed], "out.txt").read_text())
        time.sleep(0.5)
    return walls


def main() -> None:
    """Run the seeds, then print one line per seed and the means."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--parallel", action="store_true", help="the seeds at once, a core each")
    parser.add_argument("--keep", type=Path, help="run each seed in KEEP/seedS and keep it")
    parser.add_argument("words", nargs="*")
    args = parser.parse_args()
    cores = os.sched_getaffinity(0)
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        folders = {seed: seed_folder(args.keep or Path(tmp), seed) for seed in args.seeds}
        batches = [args.seeds] if args.parallel else [[seed] for seed in args.seeds]
        for batch in batches:
            started = time.monotonic()
            core_of = dict(zip(batch, sorted(cores), strict=False)) if args.parallel else {}
            running = {s: start(s, args.words, folders[s], core_of.get(s)) for s in batch}
            walls = wait_all(running, folders, started)
            outcomes += [read_back(seed, folders[seed], walls[seed]) for seed in batch]
    print(f"command: ldnn-tune run task=image seed=S {' '.join(args.words)}")
    for o in outcomes:
        print(
            f"seed {o.seed}: {o.wall:.0f} s, {o.complete} complete, {o.pruned} pruned; test acc: "
            f"best single {o.single_test_acc:.4f}, {o.ensemble} ensemble "
            f"{o.ensemble_test_acc:.4f}, RBF SVM {o.svm_test_acc:.4f}; test NLL: best single "
            f"{o.single_test_nll:.4f}, ensemble {o.ensemble_test_nll:.4f} "
            f"({o.ensemble_test_nll / o.single_test_nll - 1:+.1%}); first trial val acc "
            f"{o.first_val_acc:.4f}"
        )
    mean = {
        name: statistics.mean(getattr(o, name) for o in outcomes)
        for name in ("single_test_acc", "ensemble_test_acc", "svm_test_acc", "wall")
    }
    print(
        f"mean: single {mean['single_test_acc']:.4f}, ensemble {mean['ensemble_test_acc']:.4f}, "
        f"SVM {mean['svm_test_acc']:.4f}; ratio ensemble / SVM "
        f"{mean['ensemble_test_acc'] / mean['svm_test_acc']:.4f}, single / SVM "
        f"{mean['single_test_acc'] / mean['svm_test_acc']:.4f}; mean wall {mean['wall']:.0f} s"
    )


if __name__ == "__main__":
    main()
