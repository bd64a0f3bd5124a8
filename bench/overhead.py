"""Benchmark: one ldnn-tune trial against a bare PyTorch loop doing the same training.

For the image task (digits) and the sequence task's adding problem, both at their first-trial
knobs, the same number of epochs:

- the bare loop: the task's own net and augmentation, its data tensors sliced into shuffled
  minibatches, SGD with momentum, global-norm clipping, the divide-on-plateau schedule and a
  validation pass every epoch, the best epoch's weights kept and scored on val and test;
- the trial: the real command, ``ldnn-tune run task=X trials=5 epochs=E min_lr=1e-12
  check=false ensemble=none average_epochs=1`` with every knob pinned to its first-trial
  value, so each trial does the same work; a trial's time is read from the study
  (Optuna's start and complete times: sampling, the MLflow run, training, the artifacts,
  the tell), median of the five.

A third side splits the gap: ``train_trial`` called in this process with none of the
trial's own callbacks (no health monitor, pruning, MLflow or storage), which is Lightning's
loop around the same work. The three alternate ``--repeats`` times; the report gives the
median ratios. With py-spy on the PATH the command is sampled too, and the samples inside
the trial are shared out among the net's own work, Lightning, the health monitor, MLflow,
the pruning callback, Optuna's storage, the data loading and the artifacts.

    python bench/overhead.py [--repeats 3] [--tasks image,adding] [--epochs N]
"""

import argparse
import collections
import copy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch
import torch.nn.functional as F
from ldnn_tune_image import ImageOptions, ImageTask
from ldnn_tune_sequence import SequenceOptions, SequenceTask

from ldnn_tune import HParams, Split, Task, TaskKind, quiet_frameworks, task_space
from ldnn_tune.trial.training import train_trial

CLI = str(Path(sys.executable).with_name("ldnn-tune"))
TRIALS = 5  # identical trials per command; the median one counts


@dataclass(frozen=True)
class Case:
    """A task to time: how to build it in this process, and its words for the command."""

    name: str
    words: tuple[str, ...]
    epochs: int  # a full trial of the first-trial knobs on 2 CPU cores

    def task(self) -> Task[Any]:
        if self.name == "image":
            return ImageTask(ImageOptions(), None, 0)
        return SequenceTask(SequenceOptions(), None, 0)


CASES = {
    "image": Case("image", ("task=image",), epochs=20),
    "adding": Case("adding", ("task=sequence",), epochs=3),
}


def bare_loop(task: Task[Any], epochs: int) -> float:
    """Train the task's first-trial net the plain PyTorch way; return the wall seconds."""
    started = time.monotonic()
    hp = HParams.for_task(task)
    recipe = hp.recipe
    torch.manual_seed(0)
    module: Any = task.model(hp)
    net, augment = module.net, module.augment
    split: Split = task.datamodule(hp).split  # type: ignore[attr-defined]

    def loss_of(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if task.kind is TaskKind.CLASSIFICATION:
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        return F.mse_loss(out.reshape(y.shape), y)

    optimizer = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=1 / recipe.lr_factor, patience=recipe.lr_patience
    )
    generator = torch.Generator().manual_seed(0)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(split.y_train), generator=generator)
        for batch in order.split(recipe.batch_size):
            x, y = split.x_train[batch], split.y_train[batch]
            if augment is not None:
                x = augment(x)
            loss = loss_of(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), recipe.clip_norm)
            optimizer.step()
        net.eval()
        with torch.no_grad():
            val = float(loss_of(net(split.x_val), split.y_val))
        schedule.step(val)
        if val < best:
            best, best_state = val, copy.deepcopy(net.state_dict())
    assert best_state is not None
    net.load_state_dict(best_state)
    with torch.no_grad():
        net(split.x_val), net(split.x_test)
    return time.monotonic() - started


def lightning_fit(task: Task[Any], epochs: int) -> float:
    """Train the first-trial net with ``train_trial`` alone (Lightning, no trial callbacks)."""
    started = time.monotonic()
    train_trial(task, HParams.for_task(task), seed=0, max_epochs=epochs, min_lr=1e-12)
    return time.monotonic() - started


def pinned_knobs(task: Task[Any]) -> list[str]:
    """Return ``knob=value`` words fixing every active knob at its first-trial value.

    A knob inactive there (``init_scale`` under ``init=lazy``) is left out: pinning it
    beside its parent is refused.
    """
    return [f"{name}={value}" for name, value in task_space(task).defaults().items()]


def trial_seconds(case: Case, epochs: int, profile: Path | None) -> float:
    """Run the real command for a few identical trials; return their median duration.

    Every knob is pinned to its first-trial value, so each trial does the bare loop's work;
    the duration is Optuna's (start to complete) of each complete trial. The first trial
    of a process pays one-time costs, which the median leaves out.
    """
    task = case.task()
    with tempfile.TemporaryDirectory() as tmp:
        words = [*case.words, f"trials={TRIALS}", f"epochs={epochs}", "min_lr=1e-12"]
        # average_epochs=1: the trial keeps its best epoch, as the bare loop does
        words += ["check=false", "ensemble=none", "average_epochs=1", *pinned_knobs(task)]
        command = [CLI, "run", *words]
        if profile is not None:
            command = ["py-spy", "record", "-r", "200", "--format", "raw", "-o", str(profile)]
            command += ["--", CLI, "run", *words]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr)
        study = optuna.load_study(study_name=task.name, storage=f"sqlite:///{tmp}/ldnn_tune.db")
        durations = [
            t.duration.total_seconds()
            for t in study.trials
            if t.state == optuna.trial.TrialState.COMPLETE and t.duration is not None
        ]
        return statistics.median(durations)


# (label, substrings of a frame's file path or function), in priority order: a sample goes
# to the first label with a matching frame anywhere in its stack (so a storage read made by
# the pruning callback counts as the pruning callback's)
COMPONENTS = [
    ("health monitor", ("ldnn_tune/health/",)),
    ("pruning callback", ("ldnn_tune/trial/pruning.py", "optuna_integration/")),
    ("MLflow", ("mlflow/",)),
    ("artifacts", ("numpy/lib/_npyio", "torch/serialization.py")),
    ("Optuna storage", ("optuna/", "sqlalchemy/")),
    ("data loading", ("torch/utils/data/", "ldnn_tune/recipe/data.py")),
    ("net and optimiser (the work)", ("torch/nn/", "torch/optim/", "torch/_tensor.py", "kornia/")),
    ("Lightning", ("lightning/",)),
]


def shares(profile: Path) -> dict[str, float]:
    """Share the py-spy samples inside ``Objective.__call__`` out among the components."""
    counts: collections.Counter[str] = collections.Counter()
    for line in profile.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if "Objective.__call__" not in stack:
            continue
        stack = stack[stack.index("Objective.__call__") :]  # what the trial called
        label = next(
            (name for name, needles in COMPONENTS if any(n in stack for n in needles)), "other"
        )
        counts[label] += int(number)
    total = sum(counts.values()) or 1
    return {name: counts[name] / total for name, _ in [*COMPONENTS, ("other", ())]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=0, help="default: each task's own")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default="image,adding")
    args = parser.parse_args()
    quiet_frameworks()
    spy = shutil.which("py-spy") is not None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in args.tasks.split(","):
        case = CASES[name]
        epochs = args.epochs or case.epochs
        task = case.task()
        task.prepare()
        bare, fit, trial = [], [], []
        bare_loop(task, 1)  # warm up, as the trials after the first are
        lightning_fit(task, 1)
        for _ in range(args.repeats):
            bare.append(bare_loop(task, epochs))
            fit.append(lightning_fit(task, epochs))
            trial.append(trial_seconds(case, epochs, None))
        ratio = statistics.median(t / b for t, b in zip(trial, bare, strict=True))
        fit_ratio = statistics.median(f / b for f, b in zip(fit, bare, strict=True))
        print(
            f"{name} ({epochs} epochs): trial {statistics.median(trial):.2f} s, bare loop "
            f"{statistics.median(bare):.2f} s, ratio {ratio:.2f}; Lightning's fit alone "
            f"{statistics.median(fit):.2f} s, ratio {fit_ratio:.2f} (medians of {args.repeats})"
        )
        if spy:
            with tempfile.TemporaryDirectory() as tmp:
                profile = Path(tmp) / "profile.txt"
                trial_seconds(case, epochs, profile)
                for label, share in shares(profile).items():
                    print(f"  {label:30s} {share:6.1%} of the trial's samples")


if __name__ == "__main__":
    main()
