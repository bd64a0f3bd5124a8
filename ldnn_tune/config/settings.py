"""Command-line ``key=value`` words → typed, validated configuration.

Values are converted by OmegaConf's typed nodes against a dataclass schema, so ``trials=3``
becomes an int and ``study=007`` stays the string "007".
"""

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ldnn_tune.config.timespan import parse_timespan
from ldnn_tune.errors import UsageError, choices_text
from ldnn_tune.health.monitor import RATIO_HIGH, RATIO_LOW

SAMPLERS = ("cmaes", "gp", "qmc", "random", "tpe")
PRUNERS = ("hyperband", "median", "none", "sha")
ENSEMBLE_METHODS = ("average", "greedy", "none")

T = TypeVar("T")


@dataclasses.dataclass
class RunConfig:
    """Everything ``ldnn-tune run`` takes besides task options and fixed knobs."""

    task: str = ""
    trials: int = 20  # the study's total of finished (complete or pruned) trials
    timeout: str | None = "10m"  # wall-clock budget of this invocation
    epochs: int = 20
    seed: int = 0
    study: str | None = None  # default: the task name
    storage: str = "sqlite:///ldnn_tune.db"
    mlflow: str = "sqlite:///mlflow.db"
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
    heartbeat: int = 60  # seconds between a running trial's heartbeats; 3 missed = dead worker
    health: bool = True  # prune trials whose training is clearly broken (NaN, frozen, exploding)
    ratio_low: float = RATIO_LOW  # the update/weight ratio band: a whole epoch outside it is
    ratio_high: float = RATIO_HIGH  # unhealthy (defaults measured in bench/health.py)
    check: bool = True  # run the quick pre-flight checks before a new study

    def __post_init__(self) -> None:
        require_choice("sampler", self.sampler, SAMPLERS)
        require_choice("pruner", self.pruner, PRUNERS)
        require_choice("ensemble", self.ensemble, ENSEMBLE_METHODS)
        for name in ("trials", "epochs", "top", "top_k", "n_jobs", "heartbeat"):
            if getattr(self, name) < 1:
                raise UsageError(f"invalid {name}={getattr(self, name)}: must be at least 1")
        if not 0 < self.ratio_low < self.ratio_high:
            raise UsageError(
                f"invalid ratio band [{self.ratio_low}, {self.ratio_high}]: "
                "need 0 < ratio_low < ratio_high"
            )
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
    storage: str = "sqlite:///ldnn_tune.db"
    mlflow: str = "sqlite:///mlflow.db"
    top_k: int = 5
    method: str = "greedy"

    def __post_init__(self) -> None:
        require_choice("method", self.method, ENSEMBLE_METHODS[:2])
        if self.top_k < 1:
            raise UsageError(f"invalid top_k={self.top_k}: must be at least 1")


def require_choice(key: str, value: str, choices: Iterable[str]) -> None:
    """Raise a UsageError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise UsageError(f"invalid {key} {value!r}; choose from {choices_text(choices)}")


def split_words(words: Iterable[str]) -> dict[str, str]:
    """Return the ``key=value`` words as a dict of raw strings, rejecting malformed words."""
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {word!r}")
        if key in values:
            raise UsageError(f"{key} given twice ({values[key]!r} and {value!r})")
        values[key] = value
    return values


def field_names(schema: type[Any]) -> list[str]:
    """Return the field names of dataclass ``schema``."""
    return [f.name for f in dataclasses.fields(schema)]


def build_typed(schema: type[T], values: Mapping[str, str]) -> T:
    """Build dataclass ``schema`` from raw strings, converting each by its field's type.

    Raises UsageError naming the key, the bad value and the expected type; range checks
    in the schema's ``__post_init__`` raising ValueError become UsageErrors too.
    """
    conf = OmegaConf.structured(schema)
    OmegaConf.set_readonly(conf, False)  # frozen dataclasses give read-only configs
    hints = get_type_hints(schema)
    for key, raw in values.items():
        try:
            value = None if raw.lower() in ("none", "null") and _optional(hints[key]) else raw
            OmegaConf.update(conf, key, value, merge=False)
        except OmegaConfBaseException:
            raise UsageError(
                f"invalid value {raw!r} for {key}: expected {_type_name(hints[key])}"
            ) from None
    try:
        return OmegaConf.to_object(conf)  # type: ignore[return-value]
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None


def _optional(hint: Any) -> bool:
    return type(None) in getattr(hint, "__args__", ())


def _type_name(hint: Any) -> str:
    names = {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "text",
        Path: "a path",
    }
    args = [a for a in getattr(hint, "__args__", (hint,)) if a is not type(None)]
    return " or ".join(names.get(a, getattr(a, "__name__", str(a))) for a in args)
