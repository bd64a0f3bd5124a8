"""Which retrains should the `seeds` ensemble average? Rules compared on finished studies.

    python bench/seeds_members.py FOLDER [FOLDER ...]

Each FOLDER holds a finished ``ldnn-tune run`` (e.g. from ``bench/image_digits.py --keep``).
The pool is the search's best trial and its complete retrains; each rule picks members
from it, averages them and temperature-scales the average as the command does
(``build_ensemble(calibrate=True)``):

- ``admitted``: the members, in order, that do not raise the average's validation NLL;
- ``all``: every member, a plain deep ensemble;
- ``trained out``: every member but retrains the deadline cut short (``stop_reason``
  ``timeout ...``), which stopped before their schedule ended.

Printed: test accuracy and NLL per folder and rule, against the best single trial as it
trained (the command's baseline), and the means over the folders. Reads the stores only.
"""

import statistics
import sys
from pathlib import Path

import optuna
from calibration import open_finished

from ldnn_tune.ensembles.combine import SEEDS, SINGLE, Member, build_ensemble
from ldnn_tune.ensembles.from_study import load_pools
from ldnn_tune.names import STOP_REASON_ATTR
from ldnn_tune.plugin.task import TaskKind

RULES = ("admitted", "all", "trained out")
TIMEOUT_REASON = "timeout"  # how StopAtDeadline's reason starts


def rule_scores(folder: Path) -> dict[str, tuple[float, float, int]]:
    """Return test (acc, NLL, members) of the best single trial and of each rule's ensemble."""
    study, tracker = open_finished(folder)
    pools, _, targets = load_pools(study, tracker, 1)
    reasons = {t.number: str(t.user_attrs.get(STOP_REASON_ATTR, "")) for t in study.trials}
    pool = pools[SEEDS]
    chosen: dict[str, tuple[str, list[Member]]] = {
        SINGLE: ("average", pools[SINGLE]),
        "admitted": (SEEDS, pool),
        "all": ("average", pool),
        "trained out": (
            "average",
            [
                pool[0],
                *(m for m in pool[1:] if not reasons[m.trial_number].startswith(TIMEOUT_REASON)),
            ],
        ),
    }
    scores = {}
    for name, (method, members) in chosen.items():
        result = build_ensemble(
            method,
            members,
            targets.val,
            targets.test,
            TaskKind.CLASSIFICATION,
            calibrate=name != SINGLE,
        )
        scores[name] = (result.test_scores["acc"], result.test_scores["loss"], len(result.weights))
    return scores


def main() -> None:
    """Print one row per folder and model, then the means and the NLL change of each rule."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print("| study | model | members | test acc | test NLL |")
    print("|---|---|---|---|---|")
    table = {Path(folder): rule_scores(Path(folder)) for folder in sys.argv[1:]}
    models = [SINGLE, *RULES]
    for folder, scores in table.items():
        for model in models:
            acc, nll, members = scores[model]
            name = f"{folder.parent.name}/{folder.name}"
            print(f"| {name} | {model} | {members} | {acc:.4f} | {nll:.4f} |")
    single_nll = statistics.mean(s[SINGLE][1] for s in table.values())
    single_acc = statistics.mean(s[SINGLE][0] for s in table.values())
    for model in models:
        acc = statistics.mean(s[model][0] for s in table.values())
        nll = statistics.mean(s[model][1] for s in table.values())
        print(
            f"| mean | {model} | | {acc:.4f} ({100 * (acc - single_acc):+.2f} points) "
            f"| {nll:.4f} ({nll / single_nll - 1:+.1%}) |"
        )


if __name__ == "__main__":
    main()
