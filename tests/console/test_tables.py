"""The ensemble table: gains in points, a legend, only the methods asked for."""

import io

from rich.console import Console

from ldnn_tune.console.tables import ensemble_table
from ldnn_tune.ensembles.combine import SINGLE, EnsembleComparison, EnsembleResult


def result(method: str, weights: dict[int, int], acc: float, loss: float) -> EnsembleResult:
    scores = {"acc": acc, "loss": loss}
    return EnsembleResult(method, weights, scores, scores)


def rendered(methods: list[str] | None) -> str:
    comparison = EnsembleComparison(
        [],
        {
            SINGLE: result("average", {4: 1}, 0.98, 0.05),
            "seeds": result("seeds", {4: 1, 7: 1}, 0.99, 0.04),
            "greedy": result("greedy", {4: 2, 3: 6}, 0.985, 5.0),
        },
    )
    out = io.StringIO()
    Console(file=out, width=200).print(ensemble_table(comparison, 5, methods))
    return out.getvalue()


def test_gains_are_points_changes_are_percent_and_a_legend_explains_members() -> None:
    text = rendered(None)
    seeds = next(line for line in text.splitlines() if "│ seeds" in line)
    assert "+1.00" in seeds and "-20.0%" in seeds
    greedy = next(line for line in text.splitlines() if "│ greedy" in line)
    assert "4x2 3x6" in greedy and ">+999%" in greedy  # not +9900.0%
    words = " ".join(text.split())  # the legend wraps at the table's width
    assert "3x6 = trial 3 counted 6 times" in words and "negative NLL change is better" in words
    assert "Ensembles are temperature-scaled where a temperature fitted on validation" in words


def test_only_the_methods_asked_for_are_shown_beside_the_best_single_trial() -> None:
    text = rendered(["seeds"])
    assert "│ best single" in text and "│ seeds" in text and "│ greedy" not in text
