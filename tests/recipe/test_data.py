"""Data helpers: train-only standardisation, in-memory minibatches."""

import pytest
import torch

from ldnn_tune import Split, SplitDataModule
from ldnn_tune.recipe.data import TensorBatches
from ldnn_tune.testing import BoringTask


def test_inputs_are_standardised_with_train_statistics(task: BoringTask) -> None:
    x = task.split.x_train
    assert torch.allclose(x.mean(0), torch.zeros(x.shape[1]), atol=1e-4)
    assert torch.allclose(x.std(0), torch.ones(x.shape[1]), atol=1e-4)
    assert abs(float(task.split.x_val.mean())) < 0.5  # same shift, not refitted


def test_shuffled_batches_cover_every_example_once_a_pass() -> None:
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    batches = TensorBatches(x, y, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert len(batches) == 3
    assert sorted(torch.cat([b for _, b in batches]).tolist()) == list(range(10))


def test_an_epoch_size_draws_whole_shuffles_one_after_another() -> None:
    x, y = torch.arange(4.0)[:, None], torch.arange(4)
    generator = torch.Generator().manual_seed(0)
    batches = TensorBatches(x, y, batch_size=3, generator=generator, epoch_size=10)
    assert len(batches) == 4
    drawn = torch.cat([b for _, b in batches]).tolist()
    assert len(drawn) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]  # each pass a shuffle
    assert drawn[:4] != drawn[4:8]
    with pytest.raises(ValueError, match="epoch_size needs a generator"):
        TensorBatches(x, y, batch_size=3, epoch_size=10)


def test_a_datamodule_with_an_epoch_size_trains_that_many_examples_an_epoch() -> None:
    split = Split(*(torch.arange(6.0)[:, None], torch.arange(6)) * 3)
    module = SplitDataModule(split, batch_size=4, seed=0, epoch_size=15)
    assert sum(len(b) for _, b in module.train_dataloader()) == 15
    assert sum(len(b) for _, b in module.val_dataloader()) == 6


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"x_train": torch.zeros(6, 1).numpy()},
            TypeError,
            "Split.x_train must be a torch.Tensor, not ndarray",
        ),
        (
            {"x_val": torch.zeros(0, 1), "y_val": torch.zeros(0)},
            ValueError,
            "the val part of the Split is empty",
        ),
        (
            {"y_test": torch.arange(5)},
            ValueError,
            "the test part of the Split has 6 inputs and 5 targets",
        ),
    ],
)
def test_a_split_refuses_arrays_and_empty_or_unpaired_parts(
    change: dict, error: type[Exception], message: str
) -> None:
    parts = dict(
        zip(
            ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"),
            (torch.arange(6.0)[:, None], torch.arange(6)) * 3,
            strict=True,
        )
    )
    with pytest.raises(error, match=message):
        Split(**{**parts, **change})


def test_a_log1p_standardizer_maps_values_spanning_orders_of_magnitude_and_back() -> None:
    from ldnn_tune import Standardizer
    from ldnn_tune.plugin.task import TaskKind
    from ldnn_tune.recipe.metrics import score, to_units

    prices = torch.tensor([[9.0], [99.0], [999.0], [9999.0]])
    scale = Standardizer.fit(prices, dims=(0,), log1p=True)
    z = scale(prices)
    assert float(z.mean()) == pytest.approx(0, abs=1e-6)
    assert float(z.std()) == pytest.approx(1, abs=1e-6)
    torch.testing.assert_close(scale.inverse(z), prices, rtol=1e-4, atol=0)
    assert to_units(z.numpy(), scale) == pytest.approx(prices.numpy(), rel=1e-4)
    # errors reported in the target's units: predicting 19 for 9 is 10 off, in prices
    off = scale(torch.tensor([[19.0], [99.0], [999.0], [9999.0]])).numpy()
    assert score(TaskKind.REGRESSION, off, z.numpy(), scale)["mae"] == pytest.approx(2.5, rel=1e-3)
    with pytest.raises(ValueError, match="log1p needs values above -1"):
        Standardizer.fit(torch.tensor([[-1.0], [3.0]]), dims=(0,), log1p=True)
