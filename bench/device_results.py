"""Read what bench/device_run.sh brought back from the GPU; print the results' tables.

    python bench/device_results.py FOLDER

FOLDER holds the call's files (log.txt, phases.txt, gpu_util.csv, runs.tar.gz; phases.txt's
times bound each phase when reading gpu_util.csv by hand). Prints,
in markdown: the image task's trials per hour with 1 and 4 trials at a time and the GPU's
utilisation meanwhile; each study of phase 2 (trials, best single and ensemble test
scores, read from its Optuna and MLflow stores); the article experiments' table.
"""

import statistics
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import optuna
from article_gpu import table
from mlflow.tracking import MlflowClient

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclass
class Study:
    """One ``ldnn-tune run`` of the call, read back from its folder."""

    name: str
    command: str
    wall: float
    complete: int
    pruned: int
    span: float
    ensemble: dict[str, float]

    @property
    def per_hour(self) -> float:
        """Return finished trials per hour of the study's span (first start to last end)."""
        return (self.complete + self.pruned) / self.span * 3600 if self.span else 0.0

    @property
    def window(self) -> tuple[float, float]:
        """Return the unix times the command started and ended."""
        return self.started, self.started + self.wall

    started: float = 0.0


def read_study(folder: Path) -> Study:
    """Return the study run in ``folder``: its command's wall time, trials and ensemble."""
    lines = (folder / "out.txt").read_text().splitlines()
    first, last = lines[0].split(), lines[-1].split()
    started, ended = float(first[1]), float(last[2])
    task = next(w.split("=")[1] for w in first if w.startswith("task="))
    study = optuna.load_study(study_name=task, storage=f"sqlite:///{folder}/ldnn_tune.db")
    done = [t for t in study.trials if t.state in FINISHED]
    span = 0.0
    if done:
        starts = [t.datetime_start for t in done if t.datetime_start]
        ends = [t.datetime_complete for t in done if t.datetime_complete]
        span = (max(ends) - min(starts)).total_seconds()
    return Study(
        name=folder.name,
        command=" ".join(first[2:]),
        wall=ended - started,
        complete=sum(t.state == optuna.trial.TrialState.COMPLETE for t in done),
        pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in done),
        span=span,
        ensemble=ensemble_metrics(folder, task),
        started=started,
    )


def ensemble_metrics(folder: Path, task: str) -> dict[str, float]:
    """Return the metrics of the study's ensemble run (empty when it made none)."""
    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    experiment = client.get_experiment_by_name(task)
    if experiment is None:
        return {}
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`ldnn_tune.role` = 'ensemble'", max_results=1
    )
    if not runs:
        return {}
    metrics = dict(runs[0].data.metrics)
    metrics["method"] = runs[0].data.params.get("method", "?")  # type: ignore[assignment]
    return metrics


def gpu_samples(path: Path) -> list[tuple[float, float, float]]:
    """Return (unix time, utilisation %, memory MiB) samples of ``gpu_util.csv``."""
    samples = []
    for line in path.read_text().splitlines():
        parts = [p.strip() for p in line.split(",")]
        try:
            samples.append((float(parts[0]), float(parts[1]), float(parts[2])))
        except (IndexError, ValueError):
            continue
    return samples


def utilisation(samples: list[tuple[float, float, float]], start: float, end: float) -> str:
    """Return the mean and peak GPU utilisation and peak memory between two times."""
    inside = [s for s in samples if start <= s[0] <= end]
    if not inside:
        return "no samples"
    util = [s[1] for s in inside]
    return (
        f"{statistics.mean(util):.0f}% mean, {max(util):.0f}% peak, "
        f"{max(s[2] for s in inside):.0f} MiB peak"
    )


def study_row(s: Study, samples: list[tuple[float, float, float]]) -> str:
    """Return one markdown row of a study."""
    e = s.ensemble
    method = e.get("method", "none")
    single = e.get("single_test_acc", float("nan"))
    ensemble = e.get(f"{method}_test_acc", float("nan"))
    return (
        f"| {s.name} | {s.wall:.0f} s | {s.complete} + {s.pruned} | {s.per_hour:.0f} | "
        f"{single:.4f} | {method} {ensemble:.4f} | {utilisation(samples, *s.window)} |"
    )


def main() -> None:
    """Print the tables of the call's results in ``sys.argv[1]``."""
    folder = Path(sys.argv[1])
    samples = gpu_samples(folder / "gpu_util.csv")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(folder / "runs.tar.gz") as archive:
            archive.extractall(tmp, filter="data")
        runs = Path(tmp)
        print(
            "| run | command wall | complete + pruned | trials/h (span) | best single test | "
            "ensemble test | GPU meanwhile |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for path in sorted(p for p in runs.iterdir() if (p / "out.txt").exists()):
            try:
                print(study_row(read_study(path), samples))
            except Exception as error:  # a run that died early: say so, read the rest
                print(f"| {path.name} | unreadable: {error} |")
        for path in sorted(runs.glob("*/out.txt")):
            print(f"\n{path.parent.name}: {path.read_text().splitlines()[0]}")
        if (runs / "article").is_dir():
            print()
            print(table(runs / "article"))


if __name__ == "__main__":
    main()
