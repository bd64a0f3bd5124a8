"""The tables: ensembles against the best single trial, and the best trials with retrains marked."""

import dataclasses
import io

import optuna
from optuna.distributions import FloatDistribution
from rich.console import Console

from ldnn_tune.console.tables import counts_text, ensemble_table, print_ensemble, summary_table
from ldnn_tune.ensembles.combine import SINGLE, EnsembleComparison, EnsembleResult
from ldnn_tune.names import RESEED_OF_ATTR
from ldnn_tune.report.trials import best_table
from ldnn_tune.study.queries import best_trials


def result(method: str, weights: dict[int, int], acc: float, loss: float) -> EnsembleResult:
    scores = {"acc": acc, "loss": loss}
    return EnsembleResult(method, weights, scores, scores)


def rendered(methods: list[str] | None, width: int = 200) -> str:
    comparison = EnsembleComparison(
        [],
        {
            SINGLE: result("average", {4: 1}, 0.98, 0.05),
            "seeds": result("seeds", {4: 1, 7: 1}, 0.99, 0.04),
            "greedy": result("greedy", {4: 2, 3: 6}, 0.985, 5.0),
        },
    )
    out = io.StringIO()
    Console(file=out, width=width).print(ensemble_table(comparison, 5, methods))
    return out.getvalue()


def test_a_narrow_terminal_folds_the_numbers_instead_of_cutting_them() -> None:
    text = rendered(None, width=40)
    assert "…" not in text
    cells = [line.split("│")[3].strip() for line in text.splitlines() if line.count("│") == 7]
    assert "".join(cells).startswith("0.9")  # the test acc column, 0.9800 folded over lines


def test_gains_are_points_changes_are_percent_and_a_legend_explains_members() -> None:
    text = rendered(None)
    seeds = next(line for line in text.splitlines() if "│ seeds" in line)
    assert "+1.00" in seeds and "-20.0%" in seeds
    greedy = next(line for line in text.splitlines() if "│ greedy" in line)
    assert "4x2 3x6" in greedy and ">+999%" in greedy  # not +9900.0%
    words = " ".join(text.split())  # the legend wraps at the table's width
    assert "NxW = trial N counted W times" in words and "negative NLL change is better" in words
    assert "seeds: of the best search trial and its retrains, those helping on val" in words
    assert "; greedy: of the top 0." in words  # no members given: none pooled
    assert "Ensembles are temperature-scaled where a temperature fitted on validation" in words


def test_only_the_methods_asked_for_are_shown_beside_the_best_single_trial() -> None:
    text = rendered(["seeds"])
    assert "│ best single" in text and "│ seeds" in text and "│ greedy" not in text
    greedy = " ".join(rendered(["greedy"]).split())  # and the legend speaks of it alone
    assert "greedy: of the top 0." in greedy and "(MLflow: greedy_temperature;" in greedy
    assert "seeds" not in greedy


def test_a_regression_table_shows_mae_and_mse_once_each() -> None:
    def scores(mse: float, mae: float) -> dict[str, float]:
        return {"mse": mse, "mae": mae, "loss": mse + 1}  # loss: in the model's units

    comparison = EnsembleComparison(
        [],
        {
            SINGLE: EnsembleResult("single", {2: 1}, scores(0.1, 0.2), scores(0.1, 0.2)),
            "average": EnsembleResult("average", {2: 1, 5: 1}, scores(0.1, 0.2), scores(0.08, 0.3)),
        },
    )
    out = io.StringIO()
    Console(file=out, width=200).print(ensemble_table(comparison, 5))
    header = next(line for line in out.getvalue().splitlines() if "members" in line)
    cells = [cell.strip() for cell in header.split("┃") if cell.strip()]
    assert cells == ["model", "members", "test MAE", "test MSE", "MAE change", "MSE change"]
    average = next(line for line in out.getvalue().splitlines() if "│ average" in line)
    assert "0.3000" in average and "0.0800" in average and "+50.0%" in average
    assert "-20.0%" in average  # the MSE in the target's units, not the loss
    assert "of the top 2" in " ".join(out.getvalue().split())


def test_the_task_s_own_scores_get_a_column_each() -> None:
    def scores(mse: float, solved: float) -> dict[str, float]:
        return {"mse": mse, "mae": mse, "loss": mse, "solved": solved}

    comparison = EnsembleComparison(
        [],
        {
            SINGLE: EnsembleResult("single", {2: 1}, scores(0.1, 0.9), scores(0.1, 0.91)),
            "average": EnsembleResult("average", {2: 1, 5: 1}, scores(0.1, 1), scores(0.1, 0.97)),
        },
        own_names=("solved",),
    )
    out = io.StringIO()
    Console(file=out, width=200).print(ensemble_table(comparison, 5))
    header = next(line for line in out.getvalue().splitlines() if "members" in line)
    assert header.split("┃")[-2].strip() == "test solved"
    average = next(line for line in out.getvalue().splitlines() if "│ average" in line)
    assert average.split("│")[-2].strip() == "0.9700"


def test_the_hint_names_the_command_that_runs_the_ensemble_if_any() -> None:
    comparison = EnsembleComparison(
        [], {SINGLE: result("single", {4: 1}, 0.98, 0.05)}, run_id="abc123"
    )
    hints = {
        "predict": "; predict with: ldnn-tune predict model=abc123 input=FILE",
        "generate": "; generate text with: ldnn-tune generate model=abc123\n",
        "": "ensemble saved in MLflow run abc123\n",
    }
    for use, hint in hints.items():
        out = io.StringIO()
        print_ensemble(Console(file=out, width=200), comparison, 0, use=use)
        assert "ensemble saved in MLflow run abc123" in out.getvalue()
        assert hint in out.getvalue()
    again = io.StringIO()  # the same ensemble asked for again: nothing saved this time
    reused = dataclasses.replace(comparison, logged_before=True)
    print_ensemble(Console(file=again, width=200), reused, 0)
    assert "ensemble in MLflow run abc123 (logged before, from the same runs)" in again.getvalue()


def test_retrains_are_marked_in_the_summary_and_counted_apart() -> None:
    study = optuna.create_study()
    distributions = {"lr": FloatDistribution(0.01, 1.0)}
    for number, (value, attrs) in enumerate(
        [(0.5, {}), (0.3, {}), (0.4, {RESEED_OF_ATTR: 1}), (0.2, {RESEED_OF_ATTR: 1})]
    ):
        study.add_trial(
            optuna.trial.create_trial(
                params={"lr": 0.1 * (number + 1)},
                distributions=distributions,
                value=value,
                user_attrs=attrs,
            )
        )
    out = io.StringIO()
    Console(file=out, width=200).print(summary_table(study, 5))
    rows = [line for line in out.getvalue().splitlines() if line.startswith("│")]
    assert rows[0].split("│")[1].strip() == "3 (retrain)"
    assert "trial 1's, another seed" in rows[0]
    assert rows[1].split("│")[1].strip() == "1" and "lr=0.2" in rows[1]
    assert counts_text(study) == "4 complete (2 of them retrains), 0 pruned, 0 failed"
    markdown = best_table(best_trials(study, 5)).splitlines()  # the report's and summary.md
    assert markdown[2].startswith("| 3 (retrain) | 0.2 |")
    assert markdown[2].endswith("| trial 1's, another seed |")


def test_a_trial_given_up_unstarted_is_not_counted_as_failed() -> None:
    study = optuna.create_study()
    fail = optuna.trial.TrialState.FAIL
    for reason in ("surplus: the study already had 4 trials", "ValueError: a bad knob"):
        study.add_trial(optuna.trial.create_trial(state=fail, user_attrs={"reason": reason}))
    assert counts_text(study) == (
        "0 complete, 0 pruned, 1 failed, 1 given up unstarted (another worker filled the study)"
    )


def test_the_options_table_shows_each_options_help() -> None:
    import dataclasses

    from ldnn_tune.console.tables import options_table

    @dataclasses.dataclass(frozen=True)
    class Options:
        bits: int = dataclasses.field(default=25, metadata={"help": "parity: N bits"})
        plain: int = 3

    out = io.StringIO()
    Console(file=out, width=200).print(options_table("t", Options()))
    rows = [line for line in out.getvalue().splitlines() if line.startswith("│")]
    assert rows[0].split("│")[5].strip() == "parity: N bits"
    assert rows[1].split("│")[5].strip() == ""
