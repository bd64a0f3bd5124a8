"""The update/weight ratio monitor and health pruning."""

import dataclasses
import math

import pytest

from ldnn_tune.health.monitor import HealthBand, HealthMonitor, TrialUnhealthy, _stride
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.testing import BoringTask
from ldnn_tune.trial.training import train_trial


def test_ratio_is_measured_per_layer_and_summarised(task: BoringTask) -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    monitor = HealthMonitor(HealthBand(), prune=True, on_epoch=lambda e, m: seen.append((e, m)))
    train_trial(
        task,
        HParams.for_task(task, init="scaled", width=16),
        seed=0,
        max_epochs=2,
        min_lr=1e-9,
        callbacks=[monitor],
    )
    assert [epoch for epoch, _ in seen] == [0, 1]
    metrics = seen[-1][1]
    layers = {k for k in metrics if k.startswith("update_ratio/")}
    assert layers == {"update_ratio/0.weight", "update_ratio/3.weight"}
    assert metrics["update_ratio_min"] <= metrics["update_ratio_median"]
    assert metrics["update_ratio_median"] <= metrics["update_ratio_max"]
    assert 1e-5 < metrics["update_ratio_median"] < 1


def test_a_frozen_trial_is_pruned_after_one_epoch_with_its_reason(task: BoringTask) -> None:
    frozen = HParams.for_task(task, lr=1e-10, momentum=0.0, width=16)
    with pytest.raises(TrialUnhealthy, match=r"median update/weight ratio .* outside"):
        train_trial(
            task,
            frozen,
            seed=0,
            max_epochs=5,
            min_lr=1e-12,
            callbacks=[HealthMonitor(HealthBand(), prune=True)],
        )


def test_without_pruning_the_monitor_only_measures(task: BoringTask) -> None:
    frozen = HParams.for_task(task, lr=1e-10, momentum=0.0, width=16)
    monitor = HealthMonitor(HealthBand(), prune=False)
    out = train_trial(task, frozen, seed=0, max_epochs=2, min_lr=1e-12, callbacks=[monitor])
    assert out.epochs_run == 2
    assert monitor.last_metrics["update_ratio_median"] < 1e-6


def test_a_diverging_trial_is_pruned_at_once(task: BoringTask) -> None:
    wild = HParams.for_task(task, lr=1e25, clip_norm=1e30, width=16)
    with pytest.raises(TrialUnhealthy, match="diverged"):
        train_trial(
            task,
            wild,
            seed=0,
            max_epochs=5,
            min_lr=1e-12,
            callbacks=[HealthMonitor(HealthBand(), prune=True)],
        )


def test_nan_in_the_training_inputs_is_named_as_the_data_not_a_divergence(
    task: BoringTask,
) -> None:
    x_train = task.split.x_train.clone()
    x_train[::7, 0] = float("nan")
    task.split = dataclasses.replace(task.split, x_train=x_train)  # as with check=false
    with pytest.raises(TrialUnhealthy, match=r"^the training inputs hold NaN or infinite"):
        train_trial(
            task,
            HParams.for_task(task, width=16),
            seed=0,
            max_epochs=2,
            min_lr=1e-12,
            callbacks=[HealthMonitor(HealthBand(), prune=True)],
        )


def test_health_band_contains() -> None:
    band = HealthBand(1e-5, 1e-1)
    assert band.contains(1e-3) and not band.contains(1e-7) and not band.contains(0.5)
    assert not band.contains(math.nan)


def test_the_measured_steps_depend_on_the_epoch_length_alone(task: BoringTask) -> None:
    runs = []
    for _ in range(2):
        monitor = HealthMonitor(HealthBand(), prune=True, samples=3)
        hp = HParams.for_task(task, init="scaled", width=16, batch_size=16)
        train_trial(task, hp, seed=0, max_epochs=2, min_lr=1e-9, callbacks=[monitor])
        runs.append((monitor._measured, monitor.last_metrics))
    batches = math.ceil(len(task.split.y_train) / 16)
    assert runs[0][0] == math.ceil(batches / math.ceil(batches / 3))  # about 3 of the epoch
    assert runs[0] == runs[1]  # the same steps measured, the same ratios, on any machine


@pytest.mark.parametrize(("batches", "stride"), [(3, 1), (8, 1), (9, 2), (100, 13), (math.inf, 8)])
def test_stride_spreads_the_samples_over_the_epoch(batches: float, stride: int) -> None:
    assert _stride(batches, 8) == stride
