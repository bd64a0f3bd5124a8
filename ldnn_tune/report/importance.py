"""Which knobs mattered: fANOVA importances, computed once and safe on tiny studies."""

from collections.abc import Callable
from dataclasses import dataclass, field

import optuna
from optuna.importance import BaseImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import first_line

MIN_TRIALS = 2  # fANOVA needs this many complete trials at least
FEW_TRIALS = 5  # below this the importances are noted as rough


@dataclass(frozen=True)
class Importances:
    """The knobs' normalised fANOVA importances, highest first, and a caveat if any."""

    values: dict[str, float] = field(default_factory=dict)
    note: str = ""


def complete_count(study: optuna.Study) -> int:
    """Return how many trials of ``study`` are complete."""
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def param_importances(study: optuna.Study) -> Importances:
    """Return ``study``'s fANOVA importances; never raises (an empty result says why)."""
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    complete = complete_count(study)
    if complete < MIN_TRIALS:
        return Importances(
            note=f"knob importances need {MIN_TRIALS} complete trials; the study has {complete}"
        )
    try:
        values = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except Exception as error:  # e.g. every complete trial sampled the same values
        return Importances(note=f"knob importances could not be computed ({first_line(error)})")
    ordered = dict(sorted(values.items(), key=lambda item: -item[1]))
    note = "" if complete >= FEW_TRIALS else f"only {complete} complete trials: a rough guide"
    return Importances(ordered, note)


def top_knobs(study: optuna.Study, importances: Importances, count: int) -> list[str]:
    """Return up to ``count`` knobs: by importance, else in the order trials sampled them."""
    ranked = list(importances.values)
    for trial in study.get_trials(deepcopy=False):
        ranked += [name for name in trial.params if name not in ranked]
    return ranked[:count]


class KnownImportances(BaseImportanceEvaluator):
    """An evaluator that returns importances already computed (Optuna's plots call it)."""

    def __init__(self, importances: Importances) -> None:
        """Answer with ``importances``."""
        self.importances = importances

    def evaluate(
        self,
        study: optuna.Study,
        params: list[str] | None = None,
        *,
        target: Callable[[FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        """Return the known importances of ``params`` (all when None)."""
        values = self.importances.values
        return {k: v for k, v in values.items() if params is None or k in params}
