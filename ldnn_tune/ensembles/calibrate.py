"""Temperature scaling (Guo et al., 2017) of an ensemble's class probabilities.

One number, fitted on validation, softens or sharpens the probabilities without changing
which class wins. With only a handful of validation errors the fit is all noise (it
sharpens until the next error costs dearly), so it is used only when it carries across
halves of the validation set (:func:`checked_temperature`).
"""

import numpy as np

from ldnn_tune.recipe.metrics import PROBABILITY_FLOOR, nll

LOG_LOW, LOG_HIGH = np.log(0.05), np.log(20.0)  # temperatures searched
SEARCH_STEPS = 40  # golden-section steps: the bracket shrinks to 0.618**40 of its width
GOLDEN = (np.sqrt(5.0) - 1) / 2
CHECK_SEED = 0  # the fixed split of the validation set into halves


def with_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Return ``probs`` (``(..., classes)``) raised to ``1 / temperature`` and renormalised.

    The same as dividing the log-probabilities by ``temperature`` before a softmax. Above
    1 the probabilities flatten; below 1 they sharpen; the argmax never moves.
    """
    if temperature == 1.0:
        return probs
    logits = np.log(np.maximum(probs, PROBABILITY_FLOOR)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    result: np.ndarray = scaled / scaled.sum(axis=-1, keepdims=True)
    return result


def nll_at(probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Return the mean negative log-likelihood of ``labels`` under ``probs`` at ``temperature``."""
    return nll(with_temperature(probs, temperature), labels)


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """Return the temperature, within 0.05 to 20, that minimises the NLL of ``labels``.

    The NLL is convex in 1/T (but where the probability floor caps a confident error's
    cost, at the sharpest temperatures), so it has one minimum along log T: a
    golden-section search over log T finds it in a fixed number of evaluations, whatever
    the predictions' size.
    """
    low, high = LOG_LOW, LOG_HIGH
    a, b = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    loss_a, loss_b = nll_at(probs, labels, np.exp(a)), nll_at(probs, labels, np.exp(b))
    for _ in range(SEARCH_STEPS):
        if loss_a <= loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - GOLDEN * (high - low)
            loss_a = nll_at(probs, labels, np.exp(a))
        else:
            low, a, loss_a = a, b, loss_b
            b = low + GOLDEN * (high - low)
            loss_b = nll_at(probs, labels, np.exp(b))
    return float(np.exp((low + high) / 2))


def checked_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """Return the fitted temperature if it carries across the validation set, else 1.

    The examples (first axis) are split in two halves at random (fixed seed). Each half
    must hold at least one misclassified prediction: with none, NLL falls all the way down
    the range of temperatures, which says nothing about the errors to come. A temperature
    fitted on each half must then lower the other half's NLL below that of the
    probabilities as they are. Only then is the temperature fitted on all of them returned.
    """
    order = np.random.default_rng(CHECK_SEED).permutation(len(labels))
    halves = np.array_split(order, 2)
    wrong = probs.argmax(axis=-1) != labels
    if any(not wrong[half].any() for half in halves):
        return 1.0
    for fit_on, check_on in (halves, halves[::-1]):
        temperature = fit_temperature(probs[fit_on], labels[fit_on])
        held_out = probs[check_on], labels[check_on]
        if nll_at(*held_out, temperature) >= nll_at(*held_out, 1.0):
            return 1.0
    return fit_temperature(probs, labels)
