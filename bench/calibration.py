"""Would temperature scaling on validation help a finished study's ensembles on test?

    python bench/calibration.py FOLDER [FOLDER ...]

Each FOLDER holds a finished ``ldnn-tune run`` (its ``ldnn_tune.db`` and ``mlflow.db``).
For the best single trial and for each ensemble method, the script rebuilds the ensemble
from the trials' saved predictions without calibration (the baseline), then with one
temperature fitted on its validation predictions and applied after whatever it does, then
as ``build_ensemble(calibrate=True)`` builds it (the temperature only where it carries
across halves of the validation set; ldnn_tune/ensembles/calibrate.py), and prints
test accuracy and NLL of each, and the means over the folders. Test predictions are used
for the report only. Reads the stores; writes nothing.
"""

import os
import statistics
import sys
from pathlib import Path

import optuna

from ldnn_tune.ensembles.calibrate import fit_temperature, nll_at
from ldnn_tune.ensembles.combine import METHODS, SINGLE, build_ensemble, weighted_average
from ldnn_tune.ensembles.from_study import load_pools, method_of
from ldnn_tune.names import IDENTITY_ATTR
from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.tracking import StudyTracker

TOP_K = 5
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


Row = tuple[float, float, float, float, float]


def open_finished(folder: Path) -> tuple[optuna.Study, StudyTracker]:
    """Return the study of a finished ``ldnn-tune run`` in ``folder`` and its MLflow store."""
    storage = f"sqlite:///{folder}/ldnn_tune.db"
    name = optuna.get_all_study_names(storage)[0]
    study = optuna.load_study(study_name=name, storage=storage)
    task = study.user_attrs[IDENTITY_ATTR]["task"]
    return study, StudyTracker(f"sqlite:///{folder}/mlflow.db", task)


def study_rows(folder: Path) -> dict[str, Row]:
    """Return per model: test acc and NLL plain, NLL with T applied after, and calibrated.

    "T after" applies the temperature fitted on validation unconditionally; "calibrated"
    is ``build_ensemble(calibrate=True)``, which applies it only where it carries across
    the validation set's halves (``checked_temperature``). Neither changes the accuracy.
    """
    study, tracker = open_finished(folder)
    pools, members, targets = load_pools(study, tracker, TOP_K)
    by_number = {m.trial_number: m for m in members}
    rows = {}
    for model, chosen in pools.items():
        args = (method_of(model), chosen, targets.val, targets.test, TaskKind.CLASSIFICATION)
        plain = build_ensemble(*args)
        kept = [by_number[n] for n in plain.weights]
        weights = list(plain.weights.values())
        val = weighted_average([m.val_predictions for m in kept], weights)
        test = weighted_average([m.test_predictions for m in kept], weights)
        after = nll_at(test, targets.test, fit_temperature(val, targets.val))
        calibrated = build_ensemble(*args, calibrate=True)
        rows[model] = (
            plain.test_scores["acc"],
            plain.test_scores["loss"],
            after,
            calibrated.test_scores["acc"],
            calibrated.test_scores["loss"],
        )
    return rows


def main() -> None:
    """Print one table row per folder and model, then the means."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    models = [SINGLE, *METHODS]
    print(
        "| study | model | test acc | test NLL | NLL, T after | calibrated: acc | calibrated: NLL |"
    )
    print("|---|---|---|---|---|---|---|")
    table = {folder: study_rows(Path(folder)) for folder in sys.argv[1:]}
    for folder, rows in table.items():
        for model in models:
            cells = " | ".join(f"{v:.4f}" for v in rows[model])
            print(f"| {Path(folder).name} | {model} | {cells} |")
    for model in models:
        values = [rows[model] for rows in table.values()]
        means = [statistics.mean(v[i] for v in values) for i in range(5)]
        print(f"| mean | {model} | " + " | ".join(f"{m:.4f}" for m in means) + " |")


if __name__ == "__main__":
    main()
