"""Pre-flight checks of a task, run in seconds before any trial budget is spent.

- gradient: finite differences in float64 agree with autograd (catches a wrong backward);
- init scale: activations keep their scale through depth at initialisation;
- batch mean: the loss is averaged over the batch, so the LR means the same at any batch size;
- overfit: the training loss on one small batch falls far within a step budget;
- data: standardised inputs, every class in every split, no sample shared between train and
  validation/test, and non-negative features spanning orders of magnitude reported.
"""

import hashlib
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import nn

from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.module import RecipeModule

GRAD_STEPS = (1e-5, 2.5e-6)  # two step sizes along a unit direction (float64)
GRAD_KINK = 1e-2  # the two differences disagreeing by more than this: a kink was crossed
GRAD_ROUNDING = 1e-12  # relative rounding of a float64 loss (with room for its sums)
GRAD_DIRECTIONS = 5  # smooth directions the verdict is the median of
GRAD_MAX_KINKS = 20  # directions that may be set aside before giving up
GRAD_TOLERANCE = 1e-3  # relative disagreement allowed between autograd and finite differences
# activation std may shrink or grow this much from the first layer to the last and pass;
# up to SCALE_FAIL it is a warning (a net of the article's init_scale 0.3 in six layers
# shrinks it 1e3 times and still trains), beyond it float32 signals are lost: a failure
SCALE_LIMIT = 1e3
SCALE_FAIL = 1e6
OVERFIT_STEPS = 200
OVERFIT_FACTOR = 0.1  # the lowest loss reached must be this fraction of the start, or less
OVERFIT_BATCH = 16
# a sequence of outputs per example (a text window's next characters) is many targets to
# memorise: fewer examples keep about this many, e.g. 4 windows of 64 characters
OVERFIT_TARGETS = 256
# multiples of the trial's LR tried in turn; high-LR SGD on an LSTM is chaotic, so one LR's
# verdict could hang on the thread count's rounding (seen: 1 thread passed, 2 failed)
OVERFIT_LR_LADDER = (1.0, 1 / 3, 3.0)
STANDARD_TOLERANCE = 0.1
COMMON_CLASS = 0.01  # classes with at least this share of train targets must be in every split
MAX_CODE_VALUES = 3  # inputs with this few distinct values are codes (bits, one-hot), not measured
LOG_SPAN = 1e3  # 99th/1st percentile of a feature's positive values that suggests log(1+x)
LOG_MIN_VALUES = 20  # positive values a feature needs for its span to be judged
TARGET_MEAN_LIMIT = 3.0  # regression targets of a larger mean are noted as unstandardised
TARGET_STD_LIMIT = 10.0  # and those whose std is beyond 10 times, or under a tenth of, 1
MEAN_BATCH = 8  # examples whose loss is compared with that of the same examples twice over
MEAN_TOLERANCE = 1e-6  # relative difference allowed between the two (float64)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: passed, or not, with a one-line detail.

    A ``warning`` passes (nothing is stopped) but says what may go wrong.
    """

    name: str
    passed: bool
    detail: str
    warning: bool = False


Check = Callable[[Task[Any], HParams], CheckResult]


def run_checks(task: Task[Any], hp: HParams, quick_only: bool = False) -> list[CheckResult]:
    """Run the pre-flight checks on a prepared ``task`` with knobs ``hp``.

    ``quick_only``: just :data:`QUICK_CHECKS`, the part ``ldnn-tune run`` does first.
    """
    results = [check(task, hp) for check in (QUICK_CHECKS if quick_only else ALL_CHECKS)]
    return _gradient_in_context(results)


def _gradient_in_context(results: list[CheckResult]) -> list[CheckResult]:
    """Return ``results``, a failed gradient check set aside when activations vanish.

    Where the init-scale check fails for vanishing activations, every finite-difference
    step crosses ReLU kinks of signals near zero: a disagreement says nothing about the
    backward pass, and the init scale is what to fix.
    """
    by_name = {result.name: result for result in results}
    scale, gradient = by_name.get("init scale"), by_name.get("gradient")
    if scale is None or gradient is None or scale.passed or gradient.passed:
        return results
    if "(vanishing" not in scale.detail:
        return results
    aside = CheckResult(
        "gradient",
        True,
        f"inconclusive: activations vanish (init scale), so finite differences cross ReLU "
        f"kinks; fix the init scale first ({gradient.detail})",
        warning=True,
    )
    return [aside if result is gradient else result for result in results]


def _batch(task: Task[Any], hp: HParams, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = next(iter(task.datamodule(hp).val_dataloader()))
    return x[:size], y[:size]


def _model(task: Task[Any], hp: HParams) -> RecipeModule:
    """Return the task's model; the checks need RecipeModule's ``loss``."""
    torch.manual_seed(0)
    return cast(RecipeModule, task.model(hp))


def _eval_copy(task: Task[Any], hp: HParams, dtype: torch.dtype) -> RecipeModule:
    model = _model(task, hp)
    model.eval()
    return model.to(dtype)


def check_gradient(task: Task[Any], hp: HParams) -> CheckResult:
    """Compare autograd with central finite differences in float64 along random directions.

    Directions (of unit length) cover the parameters and, for real-valued inputs, the
    inputs too, so a hand-written backward anywhere in the model is caught. Each direction
    is differenced at two step sizes: where the two disagree the step crossed a ReLU or
    max-pool kink, where no derivative exists to compare, and the direction is set aside;
    the verdict is the median over ``GRAD_DIRECTIONS`` smooth ones. Differences below
    what float64 rounding of the loss can resolve count as agreement.
    """
    model = _eval_copy(task, hp, torch.float64)
    x, y = _batch(task, hp, 2)
    if x.is_floating_point():
        # a little noise moves the point off ties (max-pooling over a flat background)
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
        x = (x.double() + 1e-2 * noise.double()).requires_grad_(True)
    if task.kind is TaskKind.REGRESSION:
        y = y.double()
    params = [p for p in model.parameters() if p.requires_grad]
    tensors = params + ([x] if x.requires_grad else [])
    loss = model.loss(model(x), y)
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    rounding = GRAD_ROUNDING * max(abs(float(loss.detach())), 1.0) / min(GRAD_STEPS)
    generator = torch.Generator().manual_seed(0)
    errors: list[float] = []
    kinks = 0
    while len(errors) < GRAD_DIRECTIONS and kinks < GRAD_MAX_KINKS:
        directions = _unit_directions(tensors, generator)
        analytic = sum(
            float((g * d).sum()) for g, d in zip(grads, directions, strict=True) if g is not None
        )
        coarse, fine = (
            _directional_difference(model, x, y, tensors, directions, step) for step in GRAD_STEPS
        )
        if abs(coarse - fine) > GRAD_KINK * max(abs(coarse), abs(fine)) + rounding:
            kinks += 1
            continue
        errors.append(abs(analytic - fine) / max(abs(fine), abs(analytic), rounding))
    if not errors:
        return CheckResult("gradient", True, f"inconclusive: all {kinks} directions crossed a kink")
    error = statistics.median(errors)
    return CheckResult(
        "gradient",
        error < GRAD_TOLERANCE,
        f"autograd vs finite differences (float64), median of {len(errors)} smooth "
        f"directions ({kinks} crossed a kink): relative error {error:.1e} "
        f"(limit {GRAD_TOLERANCE:.0e})",
    )


def _unit_directions(tensors: list[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """Return a random direction through ``tensors``, of unit length overall."""
    directions = [torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in tensors]
    length = math.sqrt(sum(float(d.pow(2).sum()) for d in directions))
    return [d / length for d in directions]


def _directional_difference(
    model: RecipeModule,
    x: torch.Tensor,
    y: torch.Tensor,
    tensors: list[torch.Tensor],
    directions: list[torch.Tensor],
    step: float,
) -> float:
    def loss_at(sign: float) -> float:
        with torch.no_grad():
            for t, d in zip(tensors, directions, strict=True):
                t.add_(sign * step * d)
            value = float(model.loss(model(x), y))
            for t, d in zip(tensors, directions, strict=True):
                t.sub_(sign * step * d)
        return value

    return (loss_at(1.0) - loss_at(-1.0)) / (2 * step)


def check_init_scale(task: Task[Any], hp: HParams) -> CheckResult:
    """Record each weighted layer's output std at init; fail if it vanishes or explodes."""
    model = _eval_copy(task, hp, torch.float32)
    x, _ = _batch(task, hp, 64)
    scales: list[tuple[str, float]] = []
    hooks = [
        module.register_forward_hook(_recorder(name, scales))
        for name, module in model.named_modules()
        if any(p.ndim >= 2 for p in module.parameters(recurse=False))
    ]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    if len(scales) < 2:
        return CheckResult("init scale", True, "fewer than two weighted layers")
    first, last = scales[0][1], scales[-1][1]
    change = last / first if first > 0 else float("inf")
    healthy = 1 / SCALE_LIMIT <= change <= SCALE_LIMIT
    passed = 1 / SCALE_FAIL <= change <= SCALE_FAIL
    trail = " → ".join(f"{s:.1e}" for _, s in scales)
    verdict = "" if healthy else (" (vanishing" if change < 1 else " (exploding")
    if not healthy:
        verdict += "; trials will show whether it trains)" if passed else ")"
    return CheckResult(
        "init scale",
        passed,
        f"activation std through {len(scales)} layers: {trail}; last/first {change:.1e}{verdict}",
        warning=not healthy and passed,
    )


def _recorder(name: str, scales: list[tuple[str, float]]) -> Callable[..., None]:
    def record(module: nn.Module, inputs: object, output: object) -> None:
        tensor = output[0] if isinstance(output, tuple) else output
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
            scales.append((name, float(tensor.float().std())))

    return record


def check_batch_mean(task: Task[Any], hp: HParams) -> CheckResult:
    """Check that a batch's loss equals that of the same batch twice over: a mean, not a sum.

    The article's LR survives a change of batch size only for a loss averaged over the
    batch; a summed loss trains at ``batch_size`` times the LR.
    """
    model = _eval_copy(task, hp, torch.float64)
    x, y = _batch(task, hp, MEAN_BATCH)
    x = x.double() if x.is_floating_point() else x
    y = y.double() if task.kind is TaskKind.REGRESSION else y
    with torch.no_grad():
        once = float(model.loss(model(x), y))
        twice = float(model.loss(model(torch.cat([x, x])), torch.cat([y, y])))
    difference = abs(twice - once)
    seen = f"loss of {len(y)} examples {once:.6g}, of the same twice over {twice:.6g}"
    if difference <= MEAN_TOLERANCE * max(abs(once), abs(twice)) or difference == 0:
        return CheckResult("batch mean", True, seen)
    ratio = f" ({twice / once:.3g}x)" if once else ""
    return CheckResult(
        "batch mean",
        False,
        f"{seen}{ratio}: the loss must be averaged over the batch (a mean, not a sum), "
        "or the LR changes with batch_size",
    )


def check_overfit(task: Task[Any], hp: HParams, seed: int = 0) -> CheckResult:
    """Train on one small batch (no dropout, no augmentation); the loss must fall far.

    SGD with the trial's momentum and clipping runs up to ``OVERFIT_STEPS`` steps at the
    trial's LR, then at the other multiples of ``OVERFIT_LR_LADDER`` while it has not
    passed. The lowest loss counts, not the last, so an oscillating LR is not a failure.
    """
    x, y = next(iter(task.datamodule(hp).train_dataloader()))
    examples = _overfit_examples(y)
    x, y = x[:examples], y[:examples]
    tried = []
    for multiple in OVERFIT_LR_LADDER:
        lr = hp.recipe.lr * multiple
        start, lowest, steps = _fit_batch(task, hp, x, y, lr, seed)
        if start <= 0:  # a fraction of it says nothing: the loss has no floor at 0
            return CheckResult(
                "overfit",
                True,
                f"not judged: the loss started at {start:.3g}, not above 0 (e.g. a Gaussian "
                "NLL); the check needs a loss floored at 0, to reach a fraction of its start",
                warning=True,
            )
        tried.append(f"lr {lr:.3g}: {start:.3g} → {lowest:.3g}")
        if lowest <= OVERFIT_FACTOR * start:
            return CheckResult(
                "overfit",
                True,
                f"loss on {_examples_text(y)} fell {start:.3g} → {lowest:.3g} in {steps} steps "
                f"at lr {lr:.3g} (must reach {OVERFIT_FACTOR:g}x in {OVERFIT_STEPS})",
            )
    return CheckResult(
        "overfit",
        False,
        f"lowest loss on {_examples_text(y)} in {OVERFIT_STEPS} steps: {'; '.join(tried)} "
        f"(must reach {OVERFIT_FACTOR:g}x)",
    )


def _overfit_examples(y: torch.Tensor) -> int:
    """Return how many examples the overfit check fits: 16, fewer for sequences of targets."""
    per_example = max(1, y[0].numel()) if len(y) else 1
    return max(2, min(OVERFIT_BATCH, OVERFIT_TARGETS // per_example))


def _examples_text(y: torch.Tensor) -> str:
    """Return ``"16 examples"``, or ``"4 examples (256 targets)"`` for sequences of targets."""
    targets = f" ({y.numel():,} targets)" if y.numel() != len(y) else ""
    return f"{len(y)} examples{targets}"


def _fit_batch(
    task: Task[Any], hp: HParams, x: torch.Tensor, y: torch.Tensor, lr: float, seed: int
) -> tuple[float, float, int]:
    """Train a fresh model on ``(x, y)``; return (first loss, lowest loss, steps taken).

    Stops as soon as the lowest loss reaches ``OVERFIT_FACTOR`` of the first.
    """
    torch.manual_seed(seed)
    model = cast(RecipeModule, task.model(hp))
    model.eval()  # dropout off: the point is whether the model *can* fit
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=lr, momentum=hp.recipe.momentum)
    start = lowest = float("nan")
    for step in range(1, OVERFIT_STEPS + 1):
        optimizer.zero_grad()
        loss = model.loss(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, hp.recipe.clip_norm)
        optimizer.step()
        value = loss.item()
        start = value if step == 1 else start
        lowest = value if step == 1 else min(lowest, value)
        if lowest <= OVERFIT_FACTOR * start:
            return start, lowest, step
    return start, lowest, OVERFIT_STEPS


def check_data(task: Task[Any], hp: HParams) -> CheckResult:
    """Check standardisation, classes per split, leaks, and report log(1+x) candidates."""
    module = task.datamodule(hp)
    parts = {
        name: _collect(loader())
        for name, loader in (
            ("train", module.train_dataloader),
            ("val", module.val_dataloader),
            ("test", module.test_dataloader),
        )
    }
    problems = _non_finite(parts)
    x_train, y_train = parts["train"]
    if x_train.is_floating_point() and not task.standardises_in_model and not problems:
        problems += _standardisation_problems(x_train)
    # one label per sample: a common class missing from a split is a bad split; labels per
    # position (the next character of a text split in file order) differ along the data
    per_sample = task.kind is TaskKind.CLASSIFICATION and y_train.ndim == 1
    if per_sample:
        labels, counts = torch.unique(y_train, return_counts=True)
        classes = set(labels[counts >= COMMON_CLASS * y_train.numel()].tolist())
        names = task.class_names() or []
        for split in ("val", "test"):
            missing = sorted(classes - set(torch.unique(parts[split][1]).tolist()))
            if missing:
                shown = [names[i] if i < len(names) else i for i in missing[:5]]
                problems.append(f"classes {shown} missing from {split}")
    train_keys = _row_hashes(x_train)
    repeats = []
    for split in ("val", "test"):
        shared = len(train_keys & _row_hashes(parts[split][0]))
        if shared and task.splits_in_order:  # the stream repeats itself; no split copied it
            repeats.append(f"{shared} {split} samples repeat train's (the data repeats itself)")
        elif shared:
            problems.append(f"{shared} {split} samples also in train")
    found = [_log_candidates(task), _target_scale(task, y_train), *repeats]
    notes = "; ".join(filter(None, found))
    verified = [
        "standardised" if x_train.is_floating_point() and not task.standardises_in_model else "",
        "classes in every split" if per_sample else "",
        "" if repeats else "no shared samples",
    ]
    detail = "; ".join(problems) or ", ".join(filter(None, verified))
    return CheckResult("data", not problems, detail + (f"; {notes}" if notes else ""))


def _non_finite(parts: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> list[str]:
    """Return one problem per split's inputs or targets holding NaN or infinite values."""
    problems = []
    for split, tensors in parts.items():
        for name, values in zip(("inputs", "targets"), tensors, strict=True):
            if values.is_floating_point():
                bad = int((~torch.isfinite(values)).sum())
                if bad:
                    values_word = "value" if bad == 1 else "values"
                    problems.append(
                        f"{bad} non-finite {values_word} (NaN or inf) in the {split} {name}"
                    )
    return problems


def _standardisation_problems(x: torch.Tensor) -> list[str]:
    """Check each input feature that is measured, not a code, for zero mean and unit variance.

    Features are the last axis of ``(N, F)`` and ``(N, T, F)`` inputs and the channels of
    ``(N, C, H, W)`` images.
    """
    axis = 1 if x.ndim == 4 else x.ndim - 1
    columns = x.transpose(0, axis).reshape(x.shape[axis], -1)
    problems = []
    for index, column in enumerate(columns):
        if len(torch.unique(column)) <= MAX_CODE_VALUES:
            continue
        mean, std = float(column.mean()), float(column.std())
        if abs(mean) > STANDARD_TOLERANCE or abs(std - 1) > STANDARD_TOLERANCE:
            problems.append(
                f"train input feature {index} not standardised (mean {mean:.3g}, std {std:.3g})"
            )
    return problems[:3]


def _collect(batches: Iterable[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*((b[0], b[1]) for b in batches), strict=True)
    return torch.cat(xs), torch.cat(ys)


def _row_hashes(x: torch.Tensor) -> set[str]:
    rows = x.reshape(len(x), -1).contiguous().numpy()
    return {hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest() for row in rows}


def _target_scale(task: Task[Any], y_train: torch.Tensor) -> str:
    """Return a note when regression targets are served far from zero mean, unit variance.

    The article's LR and init assume outputs of order one: targets in the thousands train
    with a loss in the millions, and only a few knob sets survive it.
    """
    if task.kind is not TaskKind.REGRESSION or not y_train.is_floating_point():
        return ""
    mean, std = float(y_train.mean()), float(y_train.std())
    if abs(mean) <= TARGET_MEAN_LIMIT and 1 / TARGET_STD_LIMIT <= std <= TARGET_STD_LIMIT:
        return ""
    return (
        f"regression targets served far from standardised (mean {mean:.3g}, std {std:.3g}): "
        "serve them standardised and return the Standardizer from target_transform() "
        "(Standardizer.fit(y_train, dims=(0,), log1p=True) for values spanning orders of "
        "magnitude)"
    )


def _log_candidates(task: Task[Any]) -> str:
    """Return a note naming the non-negative features whose values span orders of magnitude.

    The span is that of the feature's positive values from their 1st to their 99th
    percentile: zeros (counts, sparse pixels) are no magnitude, and a lone extreme value
    does not make a feature span (the max depended on how many rows were drawn).
    """
    raw = task.raw_train_inputs()
    if raw is None or not raw.is_floating_point():
        return ""
    flat = raw.reshape(len(raw), -1).double()
    candidates = [
        index
        for index, column in enumerate(flat.T)
        if bool((column >= 0).all()) and _span(column[column > 0]) > LOG_SPAN
    ]
    if not candidates:
        return ""
    return (
        f"{len(candidates)} non-negative feature(s) span orders of magnitude "
        f"(e.g. {candidates[:3]}): consider log(1+x)"
    )


def _span(positive: torch.Tensor) -> float:
    """Return the ratio of the 99th to the 1st percentile of ``positive`` values (0: too few)."""
    if len(positive) < LOG_MIN_VALUES:
        return 0.0
    low, high = torch.quantile(positive, torch.tensor([0.01, 0.99], dtype=positive.dtype))
    return float(high / low)


QUICK_CHECKS: tuple[Check, ...] = (
    check_data,
    check_batch_mean,
    check_gradient,
    check_init_scale,
)
ALL_CHECKS: tuple[Check, ...] = (*QUICK_CHECKS, check_overfit)
