"""Data helpers: train-only standardisation."""

import torch

from ldnn_tune.testing import BoringTask


def test_inputs_are_standardised_with_train_statistics(task: BoringTask) -> None:
    x = task.split.x_train
    assert torch.allclose(x.mean(0), torch.zeros(x.shape[1]), atol=1e-4)
    assert torch.allclose(x.std(0), torch.ones(x.shape[1]), atol=1e-4)
    assert abs(float(task.split.x_val.mean())) < 0.5  # same shift, not refitted
