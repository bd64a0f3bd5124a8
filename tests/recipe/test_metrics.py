"""Scores of predictions, and the shape predictions are kept in."""

import numpy as np

from ldnn_tune.recipe.metrics import like_targets


def test_predictions_are_kept_in_the_targets_shape_class_scores_as_they_are() -> None:
    targets = np.zeros((4, 1))
    assert like_targets(np.zeros((4, 1, 1)), targets).shape == (4, 1)  # a regression net's
    assert like_targets(np.zeros((4, 3)), np.zeros(4)).shape == (4, 3)  # class scores
