import time

import lightning.pytorch as pl
import pytest
import torch
from torch import nn

from ldnn_tune.plugin.task import TaskKind
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.module import RecipeModule
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.trial.averaging import average_states, keep_average_if_better, mean_loss
from ldnn_tune.trial.training import time_to_average, train_trial

X = torch.linspace(-1, 1, 64).unsqueeze(1)
Y = 2.0 * X.squeeze(1)  # the best weight is 2
BATCHES = [(X[:32], Y[:32]), (X[32:], Y[32:])]


def line_model(net: nn.Module | None = None) -> RecipeModule:
    """Return a regression RecipeModule around ``net`` (default: y = w x), weights as given."""
    recipe = HParams.for_task(BoringTask(BoringOptions(), None, 0)).recipe
    net = net if net is not None else nn.Linear(1, 1, bias=False)
    return RecipeModule(net, recipe, kind=TaskKind.REGRESSION, init_weights=False)


def weight_state(w: float) -> dict[str, torch.Tensor]:
    return {"net.weight": torch.tensor([[w]])}


def test_average_states_averages_floats_and_keeps_the_first_counter() -> None:
    first = {"w": torch.tensor([1.0, 3.0]), "batches": torch.tensor(4)}
    second = {"w": torch.tensor([3.0, 5.0]), "batches": torch.tensor(9)}
    averaged = average_states([first, second])
    assert averaged["w"].tolist() == [2.0, 4.0]
    assert int(averaged["batches"]) == 4


def test_the_average_is_kept_when_its_validation_loss_is_lower() -> None:
    model = line_model()
    states = [weight_state(2.5), weight_state(1.5)]  # their average, 2, fits exactly
    model.load_state_dict(states[0])
    best_loss = mean_loss(model, BATCHES)
    kept = keep_average_if_better(model, states, best_loss, BATCHES, BATCHES)
    assert kept == pytest.approx(0.0, abs=1e-12)
    assert model.net.weight.item() == pytest.approx(2.0)


def test_the_best_epoch_stays_when_the_average_is_worse() -> None:
    model = line_model()
    states = [weight_state(2.1), weight_state(3.0)]  # the average, 2.55, fits worse
    model.load_state_dict(states[0])
    best_loss = mean_loss(model, BATCHES)
    assert keep_average_if_better(model, states, best_loss, BATCHES, BATCHES) is None
    assert model.net.weight.item() == pytest.approx(2.1)


def test_batch_norm_statistics_are_measured_again_for_the_averaged_weights() -> None:
    model = line_model(nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1)))
    states = []
    for w in (1.0, 3.0):
        model.net[0].weight.data.fill_(w)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        state["net.1.running_mean"].fill_(100.0)  # stale: must not survive averaging
        state["net.1.running_var"].fill_(100.0)
        states.append(state)
    keep_average_if_better(model, states, float("inf"), BATCHES, BATCHES)
    # what the averaged first layer (w = 2) gives, as BatchNorm measures it: the mean over
    # the batches of each batch's mean and (unbiased) variance
    features = [2.0 * x for x, _ in BATCHES]
    mean = torch.stack([f.mean() for f in features]).mean().item()
    var = torch.stack([f.var() for f in features]).mean().item()
    assert model.net[1].running_mean.item() == pytest.approx(mean, abs=1e-5)
    assert model.net[1].running_var.item() == pytest.approx(var, rel=1e-3)


class ValLosses(pl.Callback):
    """Records each epoch's validation loss."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.losses.append(float(trainer.callback_metrics["val_loss"]))


@pytest.mark.parametrize("average_epochs", [1, 3])
def test_a_trial_reports_the_loss_of_the_weights_it_keeps(
    task: BoringTask, average_epochs: int
) -> None:
    hp = HParams.for_task(task, init="scaled", lr=0.05, width=16)
    seen = ValLosses()
    out = train_trial(task, hp, 0, 6, 1e-9, callbacks=[seen], average_epochs=average_epochs)
    assert out.averaged_epochs in {1, average_epochs}
    assert out.best_epoch == seen.losses.index(min(seen.losses))
    assert out.best_val_loss == pytest.approx(out.val_scores["loss"], abs=1e-4)
    if out.averaged_epochs == 1:
        assert out.best_val_loss == pytest.approx(min(seen.losses), abs=1e-6)
    else:
        assert out.best_val_loss < min(seen.losses)


def test_averaging_needs_an_epochs_time_before_the_deadline() -> None:
    now = time.time()
    assert time_to_average(10.0, 5, None)
    assert time_to_average(10.0, 5, now + 60)  # 2 s an epoch, a minute left
    assert not time_to_average(10.0, 5, now + 1)
    assert not time_to_average(10.0, 0, now + 5)  # no epoch finished: the whole fit's time
