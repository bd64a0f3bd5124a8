"""The settings of each command as typed dataclasses, validated when they are built.

:func:`ldnn_tune.config.words.build_typed` fills them from ``key=value`` words; the ranges
are checked in ``__post_init__``, so a bad value is a one-line UsageError.
"""

import codecs
import dataclasses
import math
import os
import re
import socket
import unicodedata
from pathlib import Path
from typing import Any

from ldnn_tune.config import defaults
from ldnn_tune.config.stores import creation_refused, is_journal
from ldnn_tune.config.timespan import parse_timespan
from ldnn_tune.config.words import require_choice
from ldnn_tune.ensembles.combine import METHODS, NAMED, SEEDS
from ldnn_tune.errors import UsageError, shortened
from ldnn_tune.study.pruners import PRUNERS
from ldnn_tune.study.samplers import SAMPLERS
from ldnn_tune.trial.device import available_cores

NO_ENSEMBLE = "none"
MAX_STUDY_NAME = 500  # MLflow's limit for an experiment's name
MAX_HEARTBEAT = 86_400  # seconds: a day between beats is already no liveness check
HELP = "help"  # a field's metadata key: its one-line meaning, shown by COMMAND --help


def setting(default: Any, meaning: str) -> Any:
    """Return a dataclass field with ``default`` whose ``--help`` line says ``meaning``."""
    return dataclasses.field(default=default, metadata={HELP: meaning})


LOCALHOST = "127.0.0.1"


@dataclasses.dataclass
class RunConfig:
    """Everything ``ldnn-tune run`` takes besides task options and fixed knobs."""

    task: str = setting("", "an installed task: ldnn-tune tasks lists them")
    trials: int = setting(
        20,
        "the study's total of finished (complete or pruned) search trials; raise it to add trials",
    )
    timeout: str | None = setting(
        "10m", "wall-clock budget of this invocation: 600, 90s, 10m, 1h30m or none (at most 365d)"
    )
    epochs: int = setting(20, "the most epochs a trial trains")
    seed: int = setting(
        0, "fixes the data split; trial n trains from a seed derived from (seed, n)"
    )
    study: str | None = setting(
        None, "Optuna study and MLflow experiment name (default: the task name)"
    )
    storage: str = setting(
        defaults.STORAGE,
        "Optuna storage: sqlite:///FILE, postgresql://..., redis://HOST:6379/0, journal:PATH",
    )
    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI (a server: http://HOST:5000)")
    sampler: str = setting("tpe", "tpe, random, cmaes, gp or qmc")
    pruner: str = setting("median", "median, hyperband, sha or none")
    space: Path | None = setting(
        None, "a YAML (or .json) file merged over the task's space, or article, quick-cpu, wide"
    )
    data_dir: Path | None = setting(None, "the task's data on disk (instead of its built-in data)")
    min_lr: float = setting(1e-4, "a trial stops once its LR has been divided below this")
    # 1 by default: it helped digits and hurt FSDD's unseen speakers (bench/results/averaging.md)
    average_epochs: int = setting(
        1, "a trial keeps the average of its N best epochs' weights when validation prefers it"
    )
    warm_start: str | None = setting(
        None, "a finished study of the same task and storage: a new study trains its 3 best first"
    )
    top: int = setting(5, "rows of the summary table")
    # seeds by default: the lowest test NLL on digits (bench/results/ensembles.md)
    ensemble: str = setting(
        "seeds", "seeds (the best trial and its retrains), greedy, average or none"
    )
    reseeds: int = setting(
        4, "retrains of the best trial with new seeds after the search, for ensemble=seeds"
    )
    top_k: int = setting(5, "how many of the best trials greedy and average may use")
    n_jobs: int = setting(1, "trials run at once on this machine, each in its own process")
    force_jobs: bool = setting(False, "allow n_jobs above the machine's core count")
    heartbeat: int = setting(
        60, "seconds between a running trial's heartbeats; 3 missed = a dead worker"
    )
    health: bool = setting(
        True, "prune trials whose training is clearly broken (NaN, frozen, exploding)"
    )
    ratio_low: float = setting(
        defaults.RATIO_LOW, "the low end of the healthy update/weight ratio band"
    )
    ratio_high: float = setting(
        defaults.RATIO_HIGH, "the high end of that band (a whole epoch outside it is unhealthy)"
    )
    check: bool = setting(True, "run the quick pre-flight checks before a new study")
    max_failures: int = setting(3, "stop after this many trials in a row raise an exception")

    def __post_init__(self) -> None:
        require_choice("sampler", self.sampler, SAMPLERS)
        require_choice("pruner", self.pruner, PRUNERS)
        require_choice("ensemble", self.ensemble, [*METHODS, NO_ENSEMBLE])
        if not 0 <= self.seed < 2**32:
            raise UsageError(f"invalid seed={self.seed}: must be between 0 and {2**32 - 1}")
        if self.reseeds < 0:
            raise UsageError(f"invalid reseeds={self.reseeds}: must be 0 or more")
        for name in (
            "trials",
            "epochs",
            "average_epochs",
            "top",
            "top_k",
            "n_jobs",
            "heartbeat",
            "max_failures",
        ):
            if getattr(self, name) < 1:
                raise UsageError(f"invalid {name}={getattr(self, name)}: must be at least 1")
        if self.heartbeat > MAX_HEARTBEAT:
            raise UsageError(
                f"invalid heartbeat={self.heartbeat}: must be at most {MAX_HEARTBEAT} (a day)"
            )
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
        if self.timeout is not None and self.timeout.lower() != "none":
            parse_timespan(self.timeout)
        if any(unicodedata.category(character) == "Cc" for character in self.study_name):
            raise UsageError(
                f"invalid study={self.study_name!r}: a name may not hold tabs, line breaks "
                "or other control characters (it names the MLflow experiment and heads the tables)"
            )
        if not any(c.isprintable() and not c.isspace() for c in self.study_name):
            raise UsageError(  # a zero-width space alone: a study no table or UI shows a name of
                f"invalid study={self.study_name!r}: the name has no visible character"
            )
        if len(self.study_name) > MAX_STUDY_NAME:
            raise UsageError(
                f"invalid study: the name is {len(self.study_name):,} characters long; "
                f"the most is {MAX_STUDY_NAME} (MLflow's limit for an experiment name)"
            )
        if self.warm_start is not None and not self.warm_start.strip():
            raise UsageError(
                "invalid warm_start=: give the name of a finished study of the same task, "
                "e.g. warm_start=image"
            )
        if self.warm_start is not None and self.warm_start == self.study_name:
            raise UsageError(
                f"invalid warm_start={self.warm_start}: it is this study; "
                "give a finished study of the same task"
            )

    @property
    def timeout_seconds(self) -> float | None:
        """Return the timeout in seconds, or None for no limit (``timeout=none``)."""
        if self.timeout is None or self.timeout.lower() == "none":
            return None
        return parse_timespan(self.timeout)

    @property
    def study_name(self) -> str:
        """Return the study name: ``study=`` or else the task's name."""
        return self.study or self.task


@dataclasses.dataclass
class EnsembleConfig:
    """Everything ``ldnn-tune ensemble`` takes."""

    study: str = setting("", "the study to ensemble (required)")
    storage: str = setting(defaults.STORAGE, "the study's Optuna storage")
    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI")
    top_k: int = setting(5, "how many of the best trials greedy and average may use")
    method: str = setting(SEEDS, "seeds (the best trial and its retrains), greedy or average")
    trials: str = setting(
        "", "trial numbers to average instead, e.g. 3,7 (one number: that trial's net alone)"
    )

    def __post_init__(self) -> None:
        if not self.study:
            raise UsageError("missing study=NAME")
        require_choice("method", self.method, METHODS)
        if self.top_k < 1:
            raise UsageError(f"invalid top_k={self.top_k}: must be at least 1")
        self.named_trials()  # a malformed trials= is refused here, with the rest

    def named_trials(self) -> tuple[int, ...]:
        """Return the trial numbers ``trials=`` names, in order (empty when not given)."""
        words = [word.strip() for word in str(self.trials).split(",")]
        if words == [""]:
            return ()
        if not all(re.fullmatch("[0-9]+", word) for word in words):  # not '²'
            raise UsageError(
                f"invalid trials={self.trials!r}: give trial numbers separated by commas, "
                "e.g. trials=3,7"
            )
        numbers = tuple(int(word) for word in words)
        twice = next((n for n in numbers if numbers.count(n) > 1), None)
        if twice is not None:  # an average of one net twice over is that net alone
            raise UsageError(f"invalid trials={self.trials}: trial {twice} is named twice")
        return numbers

    def ensemble_method(self) -> str:
        """Return the model the command logs: :data:`NAMED` when trials are named."""
        return NAMED if self.named_trials() else self.method


@dataclasses.dataclass
class PredictConfig:
    """Everything ``ldnn-tune predict`` takes."""

    model: str = setting(
        "", "an ensemble bundle folder, or the MLflow run id of an ensemble (required)"
    )
    input: str = setting("", "comma-separated files or folders (required)")
    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI (for a run id)")
    output: Path | None = setting(None, "also write the predictions to this CSV file")
    data_dir: Path | None = setting(
        None, "where the ensemble's data_dir is now, if it moved (its files unchanged)"
    )

    def __post_init__(self) -> None:
        for key in ("model", "input"):
            if not getattr(self, key):
                raise UsageError(
                    f"missing {key}=...; usage: ldnn-tune predict "
                    "model=RUN_ID_OR_FOLDER input=FILE[,FILE...]"
                )
        if self.output is not None:
            check_writable(self.output, "output")
            check_suffix(self.output, "output", (".csv",))
            inputs = {Path(word).resolve() for word in self.input.split(",") if word}
            if self.output.resolve() in inputs:
                raise UsageError(f"invalid output={self.output}: it is an input; give another")


MAX_GENERATED = 100_000  # characters one generate command samples
MAX_TEMPERATURE = 100.0  # above it every character is about as likely as any other
MIN_TEMPERATURE = 0.01  # below it the odds are the likeliest character's alone (0 says so)


@dataclasses.dataclass
class GenerateConfig:
    """Everything ``ldnn-tune generate`` takes."""

    model: str = setting(
        "", "an ensemble bundle folder, or the MLflow run id of an ensemble (required)"
    )
    prompt: str = setting("", "the text to continue (default: a new line, not printed)")
    length: int = setting(500, "how many characters to sample after the prompt")
    temperature: float = setting(
        1.0, "below 1 sharpens the next character's odds, above 1 flattens; 0: the likeliest"
    )
    seed: int = setting(0, "fixes the sample: another seed, another text")
    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI (for a run id)")
    output: Path | None = setting(None, "also write the text to this .txt file")
    data_dir: Path | None = setting(
        None, "where the ensemble's data_dir is now, if it moved (its files unchanged)"
    )

    def __post_init__(self) -> None:
        if not self.model:
            raise UsageError(
                "missing model=...; usage: ldnn-tune generate model=RUN_ID_OR_FOLDER "
                "[prompt=TEXT length=500]"
            )
        if self.seed < 0:
            raise UsageError(f"invalid seed={self.seed}: give a whole number >= 0")
        if not 1 <= self.length <= MAX_GENERATED:
            raise UsageError(
                f"invalid length={self.length}: give 1 to {MAX_GENERATED:,} characters"
            )
        sharpest = self.temperature == 0 or self.temperature >= MIN_TEMPERATURE
        if not (
            math.isfinite(self.temperature) and sharpest and self.temperature <= MAX_TEMPERATURE
        ):
            raise UsageError(
                f"invalid temperature={self.temperature}: give 0, or {MIN_TEMPERATURE:g} to "
                f"{MAX_TEMPERATURE:g} (1 samples the model's odds as they are, 0 takes the "
                "likeliest character)"
            )
        if self.output is not None:
            check_writable(self.output, "output")
            check_suffix(self.output, "output", (".txt",))


@dataclasses.dataclass
class UiConfig:
    """Everything ``ldnn-tune ui`` takes."""

    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI")
    port: int = setting(defaults.UI_PORT, "the port to serve on")
    host: str = setting(
        LOCALHOST,
        "the address to bind; any but 127.0.0.1 serves the UI, unauthenticated, to the network",
    )
    allowed_hosts: str | None = setting(
        None,
        "names the UI answers to besides localhost and private IPs (MLflow's --allowed-hosts), "
        "e.g. mlflow.example.com,203.0.113.7 or *",
    )
    study: str | None = setting(None, "the experiment to open (default: the only one)")
    browser: bool = setting(True, "open a browser when there is a desktop")

    def __post_init__(self) -> None:
        check_port(self.port)
        check_host(self.host)


@dataclasses.dataclass
class DashboardConfig:
    """Everything ``ldnn-tune dashboard`` takes."""

    study: str | None = setting(None, "the study to open (default: the list of studies)")
    storage: str = setting(defaults.STORAGE, "the Optuna storage")
    port: int = setting(8080, "the port to serve on")
    host: str = setting(LOCALHOST, "the address to bind")
    browser: bool = setting(True, "open a browser when there is a desktop")

    def __post_init__(self) -> None:
        check_port(self.port)
        check_host(self.host)


REPORT_FORMATS = ("html", "md")
REPORT_STEM = 100  # bytes (UTF-8) of a study's name in its report's default file name


@dataclasses.dataclass
class ReportConfig:
    """Everything ``ldnn-tune report`` takes."""

    study: str = setting("", "the study to report (required)")
    format: str = setting("", "html or md (default: the suffix of output=, else html)")
    output: Path | None = setting(
        None, "the file to write (default: STUDY-report.html or .md here)"
    )
    storage: str = setting(defaults.STORAGE, "the study's Optuna storage")
    mlflow: str = setting(defaults.MLFLOW, "MLflow tracking URI")

    def __post_init__(self) -> None:
        if not self.study:
            raise UsageError("missing study=NAME; usage: ldnn-tune report study=NAME")
        suffix = self.output.suffix.lstrip(".").lower() if self.output else ""
        if not self.format:  # output=r.md alone means markdown; a format given must match
            self.format = suffix if suffix in REPORT_FORMATS else "html"
        require_choice("format", self.format, REPORT_FORMATS)
        check_writable(self.path, "output")
        if self.output is not None and suffix not in REPORT_FORMATS:  # x.txt: neither kind
            check_suffix(self.path, "output", tuple(f".{f}" for f in REPORT_FORMATS))
        check_suffix(self.path, "output", (f".{self.format}",))
        if self.format == "md":
            self._check_plots_folder()

    @property
    def path(self) -> Path:
        """Return the file to write: ``output=``, or ``STUDY-report.FORMAT`` here.

        The study's name is made a file name: characters other than letters, digits,
        ``.``, ``-`` and ``_`` (a ``/``, a space) become ``_``, and it is cut to 100 bytes
        (a name of 100 CJK characters is 300: past the 255 a file name may hold).
        """
        safe = re.sub(r"[^\w.-]", "_", self.study).encode()[:REPORT_STEM]
        stem = safe.decode(errors="ignore").lstrip(".") or "study"  # no character cut in two
        return self.output or Path(f"{stem}-report.{self.format}")

    @property
    def plots_folder(self) -> Path:
        """Return the folder beside a markdown report that holds its PNGs."""
        return self.path.parent / f"{self.path.stem}_plots"

    def _check_plots_folder(self) -> None:
        folder = self.plots_folder
        if folder.exists() and not folder.is_dir():
            raise UsageError(
                f"invalid output={self.path}: its plots go in folder {str(folder)!r}, which is "
                "a file; give another output= name"
            )
        if folder.is_dir() and not os.access(folder, os.W_OK):
            raise UsageError(
                f"invalid output={self.path}: its plots folder {str(folder)!r} is not writable"
            )


# the Fetch standard's "bad ports": browsers refuse to open them (ERR_UNSAFE_PORT)
BAD_PORTS = frozenset(
    {
        1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
        101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
        179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
        587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
        5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
    }
)  # fmt: skip


def check_port(port: int) -> None:
    """Refuse a TCP port outside 1-65535, or one browsers refuse to open."""
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid port={port}: must be between 1 and 65535")
    if port in BAD_PORTS:
        raise UsageError(
            f"invalid port={port}: browsers refuse to open it (ERR_UNSAFE_PORT); "
            "choose another, e.g. port=5001"
        )


def check_host(host: str) -> None:
    """Refuse an empty host or one with a scheme, port or path in it."""
    if not host or any(c in host for c in "/ ") or host.count(":") == 1:
        raise UsageError(
            f"invalid host={host!r}: give an address or name, e.g. host=127.0.0.1 or host=0.0.0.0"
        )


def check_free(host: str, port: int) -> None:
    """Refuse a ``host`` that cannot be bound here, or a ``port`` another program holds."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(
            f"cannot serve on host={host} port={port}: {reason}; choose another port= or host="
        ) from None


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def exposure_warning(host: str, served: str, anyone_can: str) -> str:
    """Return the warning for serving ``served`` on a non-loopback ``host`` ("" when local).

    ``anyone_can`` says what anyone who reaches the port can do, e.g. "read and change
    every run".
    """
    if host in LOOPBACK:
        return ""
    return (
        f"warning: host={host} serves {served} to the network, and it has no "
        f"authentication: anyone who reaches the port can {anyone_can}"
    )


def check_suffix(path: Path, key: str, suffixes: tuple[str, ...]) -> None:
    """Refuse a file to write whose suffix is none of ``suffixes``.

    An ``output=`` of another kind (``notes.py``, an ensemble's ``bundle.json``) is
    someone else's file, which the command would replace.
    """
    if path.name.lower() in suffixes:  # ".csv": a hidden file with no suffix
        raise UsageError(f"invalid {key}={path}: give a name before {path.name}")
    if path.suffix.lower() not in suffixes:
        raise UsageError(
            f"invalid {key}={path}: this command writes {' or '.join(suffixes)} files; "
            f"give a name ending in {suffixes[0]}"
        )


def check_writable(path: Path, key: str) -> None:
    """Refuse ``path`` as a file to write unless its folder exists and can be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"invalid {key}={path}: folder {str(folder)!r} does not exist")
    longest = os.pathconf(folder, "PC_NAME_MAX")
    if len(os.fsencode(path.name)) > longest:
        raise UsageError(
            f"invalid {key}={shortened(str(path))}: the file name is longer than the "
            f"{longest} bytes this file system takes; give a shorter one"
        )
    if path.is_dir():
        raise UsageError(f"invalid {key}={path}: it is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"invalid {key}={path}: {str(path)!r} is not writable")
    if not path.exists() and creation_refused(folder):  # os.access says yes to root in /proc
        raise UsageError(f"invalid {key}={path}: {str(folder)!r} is not writable")
    if path.is_file() and not replaceable(path):
        raise UsageError(
            f"invalid {key}={path}: it holds data this command does not write (a database, "
            "a journal, an image); give another file name"
        )


def replaceable(path: Path) -> bool:
    """Return whether ``path`` may be overwritten with a report or CSV: text, not a journal.

    An ``output=`` that names a store, an input or any binary file would destroy it.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
    try:  # incremental: a character cut at the 4 KiB boundary is not an error
        text = codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return "\x00" not in text and not is_journal(head)
