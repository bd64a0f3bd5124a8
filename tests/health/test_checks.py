"""Each pre-flight check against a task built to fail it."""

from collections.abc import Callable
from dataclasses import replace

import pytest
import torch
from torch import nn

from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.health.checks import (
    _overfit_examples,
    check_batch_mean,
    check_data,
    check_gradient,
    check_init_scale,
    check_overfit,
    run_checks,
)
from ldnn_tune.recipe.data import Split
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.module import RecipeModule
from ldnn_tune.testing import BoringOptions, BoringTask

HP = HParams.for_task(BoringTask(BoringOptions(), None, 0), init="scaled", lr=0.1, width=16)


class WrongBackward(torch.autograd.Function):
    """Square, with a backward that is off by a factor of two."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        (x,) = ctx.saved_tensors
        return grad * 4 * x  # should be 2 * x


class Square(nn.Module):
    def __init__(self, wrong: bool) -> None:
        super().__init__()
        self.wrong = wrong

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return WrongBackward.apply(x) if self.wrong else x * x  # type: ignore[no-any-return]


class CustomTask(BoringTask):
    """BoringTask with a net and data that tests replace."""

    def __init__(self, net_factory, split_edit=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(BoringOptions(), None, seed=0)
        self.net_factory = net_factory
        self.split_edit = split_edit

    def prepare(self) -> None:
        super().prepare()
        if self.split_edit is not None:
            self.split = self.split_edit(self.split)

    def model(self, hp: HParams) -> RecipeModule:
        return RecipeModule(self.net_factory(), hp.recipe, kind=self.kind)


def task_with(net_factory, split_edit=None) -> CustomTask:  # type: ignore[no-untyped-def]
    quiet_frameworks()
    task = CustomTask(net_factory, split_edit)
    task.prepare()
    return task


def mlp(wrong: bool = False) -> nn.Module:
    return nn.Sequential(nn.Linear(8, 16), Square(wrong), nn.Linear(16, 3))


def test_gradient_check_passes_a_correct_model_and_catches_a_wrong_backward() -> None:
    assert check_gradient(task_with(mlp), HP).passed
    result = check_gradient(task_with(lambda: mlp(wrong=True)), HP)
    assert not result.passed
    assert "relative error" in result.detail


def stack(hidden: int, activation: type[nn.Module]) -> Callable[[], nn.Module]:
    """Return a builder of an MLP of ``hidden`` layers of width 32 (8 inputs, 3 outputs)."""

    def build() -> nn.Module:
        layers: list[nn.Module] = [nn.Linear(8, 32), activation()]
        for _ in range(hidden - 1):
            layers += [nn.Linear(32, 32), activation()]
        return nn.Sequential(*layers, nn.Linear(32, 3))

    return build


def test_init_scale_catches_small_random_weights_in_a_deep_net() -> None:
    deep = stack(19, nn.Tanh)
    tiny = HParams.for_task(BoringTask(BoringOptions(), None, 0), init="lazy")
    result = check_init_scale(task_with(deep), tiny)
    assert not result.passed and "vanishing" in result.detail
    scaled = HParams.for_task(BoringTask(BoringOptions(), None, 0), init="scaled", init_scale=1.0)
    healthy = check_init_scale(task_with(deep), scaled)
    assert healthy.passed and not healthy.warning


def test_init_scale_warns_of_a_moderate_shrink_without_failing() -> None:
    six_layers = stack(5, nn.Tanh)
    small = HParams.for_task(BoringTask(BoringOptions(), None, 0), init="scaled", init_scale=0.2)
    result = check_init_scale(task_with(six_layers), small)
    assert result.passed and result.warning, result.detail
    assert "vanishing; trials will show whether it trains" in result.detail


def test_a_gradient_disagreement_where_activations_vanish_is_set_aside() -> None:
    task = task_with(stack(11, nn.ReLU))
    tiny = HParams.for_task(BoringTask(BoringOptions(), None, 0), init="scaled", init_scale=0.1)
    assert not check_gradient(task, tiny).passed  # every step crosses kinks near zero
    by_name = {r.name: r for r in run_checks(task, tiny, quick_only=True)}
    gradient, scale = by_name["gradient"], by_name["init scale"]
    assert not scale.passed and "(vanishing)" in scale.detail
    assert gradient.passed and gradient.warning
    assert gradient.detail.startswith("inconclusive: activations vanish (init scale)")
    wrong = run_checks(task_with(lambda: mlp(wrong=True)), HP, quick_only=True)
    assert not next(r for r in wrong if r.name == "gradient").passed  # a real bug still fails


class SummedLoss(RecipeModule):
    """A plugin author's slip: the loss summed over the batch instead of averaged."""

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(out, y, reduction="sum")


class SummedLossTask(CustomTask):
    def model(self, hp: HParams) -> RecipeModule:
        return SummedLoss(self.net_factory(), hp.recipe, kind=self.kind)


class NegativeLoss(RecipeModule):
    """A loss with no floor at 0 (as a Gaussian NLL): cross-entropy shifted down by 10."""

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(out, y) - 10


class NegativeLossTask(CustomTask):
    def model(self, hp: HParams) -> RecipeModule:
        return NegativeLoss(self.net_factory(), hp.recipe, kind=self.kind)


def test_overfit_does_not_judge_a_loss_that_starts_below_zero() -> None:
    # a fraction of a negative start is above it: the check passed at its first step
    task = NegativeLossTask(mlp)
    task.prepare()
    result = check_overfit(task, HP)
    assert result.passed and result.warning, result.detail
    assert result.detail.startswith("not judged: the loss started at -")


def test_batch_mean_catches_a_loss_summed_over_the_batch() -> None:
    assert check_batch_mean(task_with(mlp), HP).passed
    summed = SummedLossTask(mlp)
    summed.prepare()
    result = check_batch_mean(summed, HP)
    assert not result.passed and "(2x): the loss must be averaged over the batch" in result.detail
    quick = [r.name for r in run_checks(summed, HP, quick_only=True)]
    assert quick == ["data", "batch mean", "gradient", "init scale"]  # run refuses it too


def test_overfit_catches_a_model_that_cannot_fit() -> None:
    class BiasOnly(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bias.expand(len(x), 3)

    result = check_overfit(task_with(BiasOnly), HP)
    assert not result.passed and "must reach" in result.detail
    assert check_overfit(task_with(mlp), HP).passed


def test_data_check_catches_unstandardised_inputs() -> None:
    def shift(split: Split) -> Split:
        return replace(
            split,
            x_train=split.x_train * 5 + 3,
            x_val=split.x_val * 5 + 3,
            x_test=split.x_test * 5 + 3,
        )

    result = check_data(task_with(mlp, shift), HP)
    assert not result.passed and "not standardised" in result.detail
    clean = check_data(task_with(mlp), HP)
    assert clean.passed
    assert clean.detail == "standardised, classes in every split, no shared samples"


def test_data_check_catches_nan_and_infinite_values() -> None:
    def spoil(split: Split) -> Split:
        x_train, x_test = split.x_train.clone(), split.x_test.clone()
        x_train[::50, 1] = float("nan")
        x_test[0, 0] = float("inf")
        return replace(split, x_train=x_train, x_test=x_test)

    result = check_data(task_with(mlp, spoil), HP)
    nans = len(range(0, len(task_with(mlp).split.x_train), 50))
    assert not result.passed
    assert result.detail.startswith(
        f"{nans} non-finite values (NaN or inf) in the train inputs; "
        "1 non-finite value (NaN or inf) in the test inputs"
    )


def test_data_check_says_only_what_it_checked_for_a_regression_task() -> None:
    task = BoringTask(BoringOptions(regression=True), None, 0)
    task.prepare()
    result = check_data(task, HParams.for_task(task))
    assert result.passed and result.detail == "standardised, no shared samples"


def test_data_check_notes_regression_targets_served_in_their_units() -> None:
    task = BoringTask(BoringOptions(regression=True), None, 0)
    task.prepare()
    assert task.targets is not None
    units = task.targets.inverse  # the targets of about 100 +- 20, not standardised
    task.split = replace(
        task.split,
        y_train=units(task.split.y_train),
        y_val=units(task.split.y_val),
        y_test=units(task.split.y_test),
    )
    result = check_data(task, HParams.for_task(task))
    assert result.passed  # a note: it may train, but slowly
    assert "; regression targets served far from standardised (mean 99.5, std" in result.detail
    assert "return the Standardizer from target_transform()" in result.detail


def test_data_check_catches_leaked_samples() -> None:
    def leak(split: Split) -> Split:
        x_val = torch.cat([split.x_val[:-3], split.x_train[:3]])
        return replace(split, x_val=x_val)

    result = check_data(task_with(mlp, leak), HP)
    assert not result.passed and "3 val samples also in train" in result.detail
    stream = task_with(mlp, leak)  # splits cut in order from one stream: a repeat, no leak
    stream.splits_in_order = True
    result = check_data(stream, HP)
    assert result.passed and "3 val samples repeat train's (the data repeats itself)" in (
        result.detail
    )
    assert "no shared samples" not in result.detail


def test_data_check_catches_a_class_missing_from_a_split() -> None:
    def drop_class(split: Split) -> Split:
        keep = split.y_test != 2
        return replace(split, x_test=split.x_test[keep], y_test=split.y_test[keep])

    task = task_with(mlp, drop_class)
    result = check_data(task, HP)
    assert not result.passed and "classes [2] missing from test" in result.detail
    task.class_names = lambda: ["ant", "bee", "cat"]  # type: ignore[method-assign]
    assert "classes ['cat'] missing from test" in check_data(task, HP).detail


def test_data_check_reports_log_candidates() -> None:
    task = task_with(mlp)
    raw = torch.rand(100, 3)
    raw[:, 1] = torch.logspace(0, 6, 100)
    task.raw_train_inputs = lambda: raw  # type: ignore[method-assign]
    result = check_data(task, HP)
    assert result.passed
    assert "1 non-negative feature(s) span orders of magnitude (e.g. [1])" in result.detail


def test_the_log_hint_judges_the_spread_of_positive_values_not_zeros_or_one_extreme() -> None:
    task = task_with(mlp)
    rows = 2000
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(1, 17, (rows,), generator=generator).float()
    pixels[torch.rand(rows, generator=generator) < 0.7] = 0  # sparse: a median of 0
    prices = torch.exp(0.8 * torch.randn(rows, generator=generator))  # one order, not three
    one_extreme = torch.ones(rows)
    one_extreme[0] = 1e6
    lots = torch.exp(2.0 * torch.randn(rows, generator=generator))  # about four orders
    raw = torch.stack([pixels, prices, one_extreme, lots], dim=1)
    task.raw_train_inputs = lambda: raw  # type: ignore[method-assign]
    assert "feature(s) span orders of magnitude (e.g. [3])" in check_data(task, HP).detail
    fewer = raw[:200]  # the same features, fewer rows: the same verdict
    task.raw_train_inputs = lambda: fewer  # type: ignore[method-assign]
    assert "feature(s) span orders of magnitude (e.g. [3])" in check_data(task, HP).detail


@pytest.mark.parametrize("name", ["gradient", "init scale", "data"])
def test_quick_checks_pass_on_the_image_task(name: str) -> None:
    from ldnn_tune_image import ImageOptions, ImageTask

    from ldnn_tune.health.checks import run_checks

    task = ImageTask(ImageOptions(), None, seed=0)
    task.prepare()
    results = {r.name: r for r in run_checks(task, HParams.for_task(task), quick_only=True)}
    assert results[name].passed, results[name].detail


def test_overfit_fits_fewer_examples_of_many_targets_each() -> None:
    # a text window's 64 next characters are 64 targets: 4 windows, not 16, are memorised
    assert _overfit_examples(torch.zeros(16, dtype=torch.long)) == 16
    assert _overfit_examples(torch.zeros(16, 64, dtype=torch.long)) == 4
    assert _overfit_examples(torch.zeros(16, 1000, dtype=torch.long)) == 2
    result = check_overfit(task_with(mlp), HP)
    assert "on 16 examples fell" in result.detail  # one target each: said as before
