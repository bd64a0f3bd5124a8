"""The settings of each command as typed dataclasses, validated when they are built.

:func:`ldnn_tune.config.words.build_typed` fills them from ``key=value`` words; the ranges
are checked in ``__post_init__``, so a bad value is a one-line UsageError.
"""

import dataclasses
import math
import os
from pathlib import Path

from ldnn_tune.config import defaults
from ldnn_tune.config.timespan import parse_timespan
from ldnn_tune.config.words import require_choice
from ldnn_tune.ensembles.combine import METHODS
from ldnn_tune.errors import UsageError
from ldnn_tune.study.pruners import PRUNERS
from ldnn_tune.study.samplers import SAMPLERS
from ldnn_tune.trial.device import available_cores

NO_ENSEMBLE = "none"
LOCALHOST = "127.0.0.1"


@dataclasses.dataclass
class RunConfig:
    """Everything ``ldnn-tune run`` takes besides task options and fixed knobs."""

    task: str = ""
    trials: int = 20  # the study's total of finished (complete or pruned) trials
    timeout: str | None = "10m"  # wall-clock budget of this invocation
    epochs: int = 20
    seed: int = 0
    study: str | None = None  # default: the task name
    storage: str = defaults.STORAGE
    mlflow: str = defaults.MLFLOW
    sampler: str = "tpe"
    pruner: str = "median"
    space: Path | None = None
    data_dir: Path | None = None
    min_lr: float = 1e-4  # stop a trial once its LR has been divided below this
    top: int = 5  # rows of the summary table
    # how the top trials are combined at the end: greedy, average, none (greedy: measured
    # better NLL on short studies, bench/results/ensembles.md)
    ensemble: str = "greedy"
    top_k: int = 5  # how many of the best trials the ensemble may use
    n_jobs: int = 1  # trials run at once on this machine, each in its own process
    force_jobs: bool = False  # allow n_jobs above the machine's core count
    heartbeat: int = 60  # seconds between a running trial's heartbeats; 3 missed = dead worker
    health: bool = True  # prune trials whose training is clearly broken (NaN, frozen, exploding)
    ratio_low: float = defaults.RATIO_LOW  # the update/weight ratio band: a whole epoch
    ratio_high: float = defaults.RATIO_HIGH  # outside it is unhealthy (bench/health.py)
    check: bool = True  # run the quick pre-flight checks before a new study
    max_failures: int = 3  # stop after this many trials in a row raise an exception

    def __post_init__(self) -> None:
        require_choice("sampler", self.sampler, SAMPLERS)
        require_choice("pruner", self.pruner, PRUNERS)
        require_choice("ensemble", self.ensemble, [*METHODS, NO_ENSEMBLE])
        if not 0 <= self.seed < 2**32:
            raise UsageError(f"invalid seed={self.seed}: must be between 0 and {2**32 - 1}")
        for name in ("trials", "epochs", "top", "top_k", "n_jobs", "heartbeat", "max_failures"):
            if getattr(self, name) < 1:
                raise UsageError(f"invalid {name}={getattr(self, name)}: must be at least 1")
        cores = available_cores()
        if self.n_jobs > cores and not self.force_jobs:
            raise UsageError(
                f"invalid n_jobs={self.n_jobs}: this machine has {cores} cores, and each "
                f"worker holds its own ~0.6 GB; use n_jobs={cores} or fewer, or force_jobs=true"
            )
        if not 0 < self.ratio_low < self.ratio_high:
            raise UsageError(
                f"invalid ratio band [{self.ratio_low}, {self.ratio_high}]: "
                "need 0 < ratio_low < ratio_high"
            )
        for name in ("min_lr", "ratio_low", "ratio_high"):
            if not math.isfinite(getattr(self, name)):
                raise UsageError(f"invalid {name}={getattr(self, name)}: must be a finite number")
        if self.min_lr <= 0:
            raise UsageError(f"invalid min_lr={self.min_lr}: must be positive")
        if self.timeout is not None and self.timeout.lower() not in ("none", "0"):
            parse_timespan(self.timeout)

    @property
    def timeout_seconds(self) -> float | None:
        """Return the timeout in seconds, or None for no limit (``timeout=none``)."""
        if self.timeout is None or self.timeout.lower() in ("none", "0"):
            return None
        return parse_timespan(self.timeout)

    @property
    def study_name(self) -> str:
        """Return the study name: ``study=`` or else the task's name."""
        return self.study or self.task


@dataclasses.dataclass
class EnsembleConfig:
    """Everything ``ldnn-tune ensemble`` takes."""

    study: str = ""
    storage: str = defaults.STORAGE
    mlflow: str = defaults.MLFLOW
    top_k: int = 5
    method: str = "greedy"

    def __post_init__(self) -> None:
        if not self.study:
            raise UsageError("missing study=NAME")
        require_choice("method", self.method, METHODS)
        if self.top_k < 1:
            raise UsageError(f"invalid top_k={self.top_k}: must be at least 1")


@dataclasses.dataclass
class PredictConfig:
    """Everything ``ldnn-tune predict`` takes."""

    model: str = ""  # an ensemble bundle folder, or the MLflow run id of an ensemble
    input: str = ""  # comma-separated files or folders
    mlflow: str = defaults.MLFLOW
    output: Path | None = None  # also write the predictions to this CSV file

    def __post_init__(self) -> None:
        for key in ("model", "input"):
            if not getattr(self, key):
                raise UsageError(
                    f"missing {key}=...; usage: ldnn-tune predict "
                    "model=RUN_ID_OR_FOLDER input=FILE[,FILE...]"
                )
        if self.output is not None:
            check_writable(self.output, "output")


@dataclasses.dataclass
class UiConfig:
    """Everything ``ldnn-tune ui`` takes."""

    mlflow: str = defaults.MLFLOW
    port: int = defaults.UI_PORT
    host: str = LOCALHOST  # another address serves the UI, unauthenticated, to the network
    study: str | None = None  # the experiment to open; default: the only one
    browser: bool = True  # open a browser when there is a desktop

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise UsageError(f"invalid port={self.port}: must be between 1 and 65535")
        check_host(self.host)


@dataclasses.dataclass
class DashboardConfig:
    """Everything ``ldnn-tune dashboard`` takes."""

    study: str | None = None  # the study to open; default: the list of studies
    storage: str = defaults.STORAGE
    port: int = 8080
    host: str = LOCALHOST

    def __post_init__(self) -> None:
        check_port(self.port)
        check_host(self.host)


REPORT_FORMATS = ("html", "md")


@dataclasses.dataclass
class ReportConfig:
    """Everything ``ldnn-tune report`` takes."""

    study: str = ""
    format: str = "html"
    output: Path | None = None  # default: STUDY-report.html (or .md) here
    storage: str = defaults.STORAGE
    mlflow: str = defaults.MLFLOW

    def __post_init__(self) -> None:
        if not self.study:
            raise UsageError("missing study=NAME; usage: ldnn-tune report study=NAME")
        require_choice("format", self.format, REPORT_FORMATS)
        check_writable(self.path, "output")

    @property
    def path(self) -> Path:
        """Return the file to write: ``output=``, or ``STUDY-report.FORMAT`` here."""
        return self.output or Path(f"{self.study}-report.{self.format}")


def check_port(port: int) -> None:
    """Refuse a TCP port outside 1-65535."""
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid port={port}: must be between 1 and 65535")


def check_host(host: str) -> None:
    """Refuse an empty host or one with a scheme, port or path in it."""
    if not host or any(c in host for c in "/ ") or host.count(":") == 1:
        raise UsageError(
            f"invalid host={host!r}: give an address or name, e.g. host=127.0.0.1 or host=0.0.0.0"
        )


def check_writable(path: Path, key: str) -> None:
    """Refuse ``path`` as a file to write unless its folder exists and can be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"invalid {key}={path}: it is a folder; give a file name")
    if not folder.is_dir():
        raise UsageError(f"invalid {key}={path}: folder {str(folder)!r} does not exist")
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise UsageError(f"invalid {key}={path}: {str(target)!r} is not writable")
