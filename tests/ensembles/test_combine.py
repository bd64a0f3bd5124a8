import numpy as np
import pytest
import torch

from ldnn_tune.ensembles.calibrate import with_temperature
from ldnn_tune.ensembles.combine import (
    METHODS,
    Member,
    admitted_weights,
    build_ensemble,
    greedy_weights,
    weighted_average,
)
from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.data import Standardizer

C = TaskKind.CLASSIFICATION


def one_hot_ish(labels: np.ndarray, right: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    """Probabilities that put ``confidence`` on the true label where ``right``, else on another."""
    classes = 3
    chosen = np.where(right, labels, (labels + 1) % classes)
    probs = np.full((len(labels), classes), (1 - confidence) / (classes - 1))
    probs[np.arange(len(labels)), chosen] = confidence
    return probs


def members_and_targets() -> tuple[list[Member], np.ndarray]:
    labels = np.arange(40) % 3
    first_half = np.arange(40) < 20
    a = one_hot_ish(labels, first_half)  # right on the first half only
    b = one_hot_ish(labels, ~first_half)  # right on the second half only
    c = one_hot_ish(labels, np.arange(40) % 4 != 0, confidence=0.5)  # fair everywhere
    members = [Member(n, f"run{n}", p, p.copy()) for n, p in enumerate((a, b, c))]
    return members, labels


def test_average_of_identical_members_equals_one_member() -> None:
    members, labels = members_and_targets()
    same = [members[0], Member(7, "r7", members[0].val_predictions, members[0].test_predictions)]
    single = build_ensemble("average", same[:1], labels, labels, C)
    both = build_ensemble("average", same, labels, labels, C)
    assert both.test_scores == pytest.approx(single.test_scores)
    np.testing.assert_allclose(
        weighted_average([m.val_predictions for m in same], [1, 1]), members[0].val_predictions
    )


def test_greedy_picks_the_complementary_members() -> None:
    members, labels = members_and_targets()
    weights = greedy_weights([m.val_predictions for m in members], labels, C)
    assert weights[0] > 0 and weights[1] > 0
    assert weights[0] == weights[1]
    result = build_ensemble("greedy", members, labels, labels, C)
    best_single = min(
        build_ensemble("average", [m], labels, labels, C).val_scores["loss"] for m in members
    )
    assert result.val_scores["loss"] < best_single


def test_selection_never_reads_the_test_split() -> None:
    members, labels = members_and_targets()
    blind = [
        Member(
            m.trial_number, m.run_id, m.val_predictions, np.full_like(m.test_predictions, np.nan)
        )
        for m in members
    ]
    seeing = build_ensemble("greedy", members, labels, labels, C)
    not_seeing = build_ensemble("greedy", blind, labels, np.full_like(labels, -1), C)
    assert seeing.weights == not_seeing.weights
    assert seeing.val_scores == not_seeing.val_scores


def test_regression_outputs_are_averaged() -> None:
    targets = np.array([1.0, 2.0, 3.0, 4.0])
    low, high = targets - 0.5, targets + 0.5
    members = [Member(0, "a", low, low), Member(1, "b", high, high)]
    result = build_ensemble("average", members, targets, targets, TaskKind.REGRESSION)
    assert result.test_scores["mse"] == pytest.approx(0.0)
    assert build_ensemble("greedy", members, targets, targets, TaskKind.REGRESSION).weights == {
        0: 1,
        1: 1,
    }


def test_unknown_method() -> None:
    members, labels = members_and_targets()
    with pytest.raises(ValueError, match="unknown ensemble method 'vote'"):
        build_ensemble("vote", members, labels, labels, C)


def test_admission_keeps_the_first_and_refuses_a_member_that_raises_the_loss() -> None:
    labels = np.arange(40) % 3
    good = one_hot_ish(labels, np.ones(40, dtype=bool), confidence=0.8)
    bad = one_hot_ish(labels, np.zeros(40, dtype=bool), confidence=0.9)
    alike = one_hot_ish(labels, np.ones(40, dtype=bool), confidence=0.9)
    assert admitted_weights([good, bad, alike], labels, C) == [1, 0, 1]
    assert admitted_weights([bad, good], labels, C) == [1, 1]  # the first always stays


def test_seeds_is_the_default_method_and_scores_regression_in_units() -> None:
    targets = np.array([0.0, 1.0, -1.0, 0.5])
    members = [Member(n, f"r{n}", targets + d, targets + d) for n, d in enumerate((0.1, -0.1))]
    transform = Standardizer(torch.tensor([100.0]), torch.tensor([20.0]))
    result = build_ensemble(
        next(iter(METHODS)), members, targets, targets, TaskKind.REGRESSION, transform
    )
    assert result.method == "seeds" and result.weights == {0: 1, 1: 1}
    assert result.val_scores["loss"] == pytest.approx(0.0, abs=1e-12)
    single = build_ensemble(
        "average", members[:1], targets, targets, TaskKind.REGRESSION, transform
    )
    assert single.val_scores["loss"] == pytest.approx(0.01)
    assert single.val_scores["mse"] == pytest.approx(0.01 * 20**2)  # in the target's units
    assert single.val_scores["mae"] == pytest.approx(0.1 * 20)


def test_calibration_fits_a_temperature_on_validation_and_keeps_the_winners() -> None:
    members, labels = members_and_targets()
    overconfident = []
    for m in members:
        sharp = with_temperature(m.val_predictions, 1 / 3)
        overconfident.append(Member(m.trial_number, m.run_id, sharp, sharp))
    plain = build_ensemble("average", overconfident, labels, labels, C)
    calibrated = build_ensemble("average", overconfident, labels, labels, C, calibrate=True)
    assert plain.temperature == 1.0 and calibrated.temperature != 1.0
    assert calibrated.val_scores["loss"] < plain.val_scores["loss"]
    assert calibrated.test_scores["acc"] == plain.test_scores["acc"]
    targets = np.array([1.0, 2.0])
    values = [Member(0, "a", targets, targets)]
    regression = build_ensemble(
        "average", values, targets, targets, TaskKind.REGRESSION, calibrate=True
    )
    assert regression.temperature == 1.0
