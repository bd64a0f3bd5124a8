"""``warm_start=STUDY``: a new study first trains the best knobs another study of its task found.

The source's best distinct knob sets are queued as the new study's first trials, each
value kept only where the new space still allows it (a knob it lacks, a value out of
the new range or a pinned knob is sampled as usual); then the space's defaults follow.
The new study trains them again from its own seeds, on its own split, so nothing it
ranks or ensembles comes from the source.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial

from ldnn_tune.config.stores import check_storage
from ldnn_tune.errors import UsageError
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.space.knobs import SearchSpace
from ldnn_tune.study.open import load_existing_study
from ldnn_tune.study.queries import best_trials, is_reseed

WARM_TRIALS = 3  # enough to start TPE from the source's region, few enough to leave the search


@dataclass(frozen=True)
class WarmStart:
    """The knob sets a new study starts with, and where they came from."""

    source: str
    params: list[dict[str, Any]]
    values: list[float]

    def describe(self) -> str:
        """Return the line that tells the user what the first trials train."""
        losses = ", ".join(f"{v:.4g}" for v in self.values)
        return (
            f"warm start: the first {len(self.params)} trials train the best knobs of study "
            f"{self.source!r} (its val_loss {losses})"
        )


def load_warm_start(
    source: str,
    storage_url: str,
    task: str,
    space: SearchSpace,
    count: int = WARM_TRIALS,
    kind: str | None = None,
) -> WarmStart:
    """Return the best ``count`` distinct knob sets of study ``source``, fitted to ``space``.

    A source in another storage, of another task, of outputs of another ``kind`` (another
    problem: its best knobs minimised another loss) or with no complete trial is a
    UsageError; so is a storage that does not exist yet, which is refused before it is
    created.
    """
    try:
        check_storage(storage_url, read_only=True)
    except UsageError as missing:
        raise UsageError(f"invalid warm_start={source}: {missing}") from None
    try:
        study = load_existing_study(source, storage_url)
    except UsageError as error:
        raise UsageError(f"invalid warm_start={source}: {error}") from None
    found = study.user_attrs.get(IDENTITY_ATTR, {}).get("task")
    if found is None:
        raise UsageError(
            f"invalid warm_start={source}: it was not made by ldnn-tune (no task recorded); "
            "warm-start from a study ldnn-tune ran"
        )
    if found != task:
        raise UsageError(
            f"invalid warm_start={source}: it is a study of task {found!r}, not {task!r}; "
            "warm-start from a study of the same task"
        )
    found_kind = study.user_attrs.get(IDENTITY_ATTR, {}).get("kind")
    if kind is not None and found_kind is not None and found_kind != kind:
        raise UsageError(
            f"invalid warm_start={source}: its trials' outputs are of kind {found_kind!r}, "
            f"not {kind!r} (another problem or task option), so its best knobs minimised "
            "another loss; warm-start from a study of the same kind"
        )
    ranked = [t for t in best_trials(study) if not is_reseed(t)]
    if not ranked:
        raise UsageError(f"invalid warm_start={source}: the study has no complete trial yet")
    chosen: list[FrozenTrial] = []
    params: list[dict[str, Any]] = []
    for trial in ranked:
        fitted = fit_to_space(trial.params, space)
        if fitted not in params:
            chosen.append(trial)
            params.append(fitted)
        if len(params) == count:
            break
    return WarmStart(source, params, [float(t.value) for t in chosen if t.value is not None])


def fit_to_space(params: Mapping[str, Any], space: SearchSpace) -> dict[str, Any]:
    """Return the values of ``params`` that ``space`` allows, knob by knob in its order."""
    fitted: dict[str, Any] = {}
    for knob in space.knobs:
        if knob.name not in params or not knob.is_active(fitted):
            continue
        if knob.allows(params[knob.name]):
            fitted[knob.name] = params[knob.name]
    return fitted
