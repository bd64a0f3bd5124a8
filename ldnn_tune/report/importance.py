"""Which knobs mattered: fANOVA importances, computed once and safe on tiny studies."""

from collections.abc import Callable
from dataclasses import dataclass, field

import optuna
from optuna.importance import BaseImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState

from ldnn_tune.errors import first_line
from ldnn_tune.study.queries import is_reseed

MIN_TRIALS = 2  # fANOVA needs this many complete trials at least
FEW_TRIALS = 5  # below this the importances are noted as rough
# fANOVA's cost grows with trees x trials: 64 trees (Optuna's default) up to 100 complete
# trials, fewer above, never under 16. On 502 complete digits trials 64 trees took 15 s and
# 16 took 3 s; the importances moved less between 16 and 64 trees than between two seeds.
FANOVA_TREE_TRIALS = 6400
MIN_TREES, MAX_TREES = 16, 64


@dataclass(frozen=True)
class Importances:
    """The knobs' normalised fANOVA importances, highest first, and a caveat if any."""

    values: dict[str, float] = field(default_factory=dict)
    note: str = ""


def complete_search_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Return ``study``'s complete trials less the retrains, whose knobs repeat a trial's."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t for t in complete if not is_reseed(t)]


def param_importances(study: optuna.Study) -> Importances:
    """Return ``study``'s fANOVA importances; never raises (an empty result says why).

    They are computed over the search's complete trials: the retrains of the best
    trial repeat its knobs, and would count them as often as it was retrained.
    """
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    trials = complete_search_trials(study)
    complete = len(trials)
    if complete < MIN_TRIALS:
        return Importances(
            note=f"knob importances need {MIN_TRIALS} complete trials; the study has {complete}"
        )
    try:  # a knob value outside its distribution (enqueued by hand) is refused here too
        search = optuna.create_study(directions=study.directions)  # in memory: a view
        search.add_trials(trials)
        evaluator = FanovaImportanceEvaluator(n_trees=fanova_trees(complete), seed=0)
        values = get_param_importances(search, evaluator=evaluator)
    except Exception as error:  # e.g. every complete trial sampled the same values
        return Importances(note=f"knob importances could not be computed ({first_line(error)})")
    ordered = dict(sorted(values.items(), key=lambda item: -item[1]))
    note = "" if complete >= FEW_TRIALS else f"only {complete} complete trials: a rough guide"
    return Importances(ordered, note)


def fanova_trees(complete: int) -> int:
    """Return how many trees fANOVA fits for ``complete`` trials (fewer for large studies)."""
    return max(MIN_TREES, min(MAX_TREES, FANOVA_TREE_TRIALS // max(complete, 1)))


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
