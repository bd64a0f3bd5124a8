"""Temperature scaling: fitted on one set of predictions, it recovers the true temperature."""

import numpy as np
import pytest

from ldnn_tune.ensembles.calibrate import (
    checked_temperature,
    fit_temperature,
    nll_at,
    with_temperature,
)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=-1, keepdims=True)
    return result


def test_temperature_keeps_the_winner_and_flattens_or_sharpens() -> None:
    probs = softmax(np.random.default_rng(0).normal(size=(50, 4)) * 3)
    assert with_temperature(probs, 1.0) is probs
    for temperature, flatter in ((2.0, True), (0.5, False)):
        scaled = with_temperature(probs, temperature)
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0)
        assert (scaled.argmax(axis=1) == probs.argmax(axis=1)).all()
        assert ((scaled.max(axis=1) < probs.max(axis=1)) == flatter).all()


def test_fit_recovers_the_temperature_that_generated_the_labels() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(20000, 5)) * 4
    for true_temperature in (0.5, 2.0):
        truth = softmax(logits / true_temperature)
        labels = np.array([rng.choice(5, p=p) for p in truth])
        # the model says softmax(logits): over-confident when the truth is flatter
        fitted = fit_temperature(softmax(logits), labels)
        assert abs(np.log(fitted / true_temperature)) < 0.08
        model = softmax(logits)
        assert nll_at(model, labels, fitted) < nll_at(model, labels, 1.0)


def test_sequence_shaped_predictions_are_scaled_per_position() -> None:
    probs = softmax(np.random.default_rng(2).normal(size=(3, 7, 4)))
    labels = probs.argmax(axis=-1)
    assert fit_temperature(probs, labels) < 1.0  # every position right: sharpen
    assert with_temperature(probs, 3.0).shape == (3, 7, 4)


def test_a_temperature_is_used_only_when_it_carries_across_halves() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(4000, 5)) * 4
    truth = softmax(logits / 2.0)
    labels = np.array([rng.choice(5, p=p) for p in truth])
    assert abs(np.log(checked_temperature(softmax(logits), labels) / 2.0)) < 0.1
    # nearly all right, two confident errors: a fit on one half sharpens, the other pays
    probs = np.full((300, 3), 0.05)
    probs[:, 0] = 0.9
    few_errors = np.zeros(300, dtype=np.int64)
    few_errors[[5, 250]] = 1
    assert fit_temperature(probs, few_errors) < 1.0
    assert checked_temperature(probs, few_errors) == 1.0


def test_no_temperature_without_errors_in_both_halves_or_examples_enough() -> None:
    probs = softmax(np.random.default_rng(4).normal(size=(7, 5, 4)) * 2)  # (N, T, C)
    right = probs.argmax(axis=-1)
    assert checked_temperature(probs, right) == 1.0  # all right: nothing to calibrate on
    assert fit_temperature(probs, right) == pytest.approx(0.05, rel=1e-3)  # the range's end
    one = softmax(np.array([[2.0, 0.0, 0.0]]))
    assert checked_temperature(one, np.array([1])) == 1.0
