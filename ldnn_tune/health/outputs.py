"""Does a task's model answer its targets? Checked on one training batch before any trial.

A model whose last layer has the wrong number of units either crashes a trial deep inside
the loss, or (more class scores than classes) trains silently on a problem it was not
meant for. :func:`output_problem` runs the model on a few training examples and compares
its outputs with what the task's loss consumes:

- classification (cross-entropy): one score vector per target, ``(..., classes)`` for
  targets ``(...)`` of class indices, with as many scores as ``class_names()`` names, or
  (unnamed classes) more than the largest class index in the data;
- regression (mean squared error): as many values per example as each target holds.

A model whose own ``loss`` replaces the recipe's is only checked for its loss running.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import lightning.pytorch as pl
import torch

from ldnn_tune.config.resolve import ResolvedRun
from ldnn_tune.errors import PluginError, first_line
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import Host
from ldnn_tune.plugin.scores import scores_problem
from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.data import SplitDataModule
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.module import RecipeModule

EXAMPLES = 4  # training examples the model is run on


def _unguarded(step: str) -> AbstractContextManager[Any]:
    return nullcontext()


def output_problem(
    task: Task[Any], hp: HParams, guard: Callable[[str], AbstractContextManager[Any]] = _unguarded
) -> str:
    """Return what is wrong with the outputs of ``task``'s model for its targets, or "".

    ``task`` is prepared; the model is built with knobs ``hp`` and run, in eval mode, on
    the first few examples of a training batch. Each call into the task runs inside
    ``guard(step)``, e.g. ``guard("model()")``.
    """
    with guard("datamodule()"):
        datamodule = task.datamodule(hp)
        _expect_datamodule(datamodule)
        first = {part: _first_batch(datamodule, part) for part in ("train", "val")}
        x, y = first["train"][:2]
    x, y = x[:EXAMPLES].cpu(), y[:EXAMPLES].cpu()
    torch.manual_seed(0)
    with guard("model()"):
        model = task.model(hp)
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"it returns a {type(model).__name__}, not a LightningModule: return a "
                "RecipeModule wrapping the net"
            )
        model = model.cpu()
    model.eval()
    weights = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if x.is_floating_point() and weights is not None and x.dtype != weights:
        return (
            f"the datamodule serves {x.dtype} inputs, but the model's weights are {weights}: "
            f"serve {weights} inputs (e.g. torch.from_numpy(array).float())"
        )
    with guard("the model's forward pass"), torch.no_grad():
        out = model(x)
    if not isinstance(out, torch.Tensor):
        return f"model() returns a {type(out).__name__} from its forward pass, not a tensor"
    if len(out) != len(y):
        return f"model() gives {len(out)} outputs for a batch of {len(y)} examples"
    if _finite(x) and _has_nan(out):  # non-finite inputs are the data check's to name
        return (
            "model() gives NaN outputs for the first training examples (its fresh weights, "
            "in eval mode)"
        )
    loss = getattr(model, "loss", None)
    if not isinstance(model, pl.LightningModule) or not callable(loss):
        return (
            f"model() returns a {type(model).__name__}, which has no recipe to train it: "
            "return a RecipeModule wrapping the net (from ldnn_tune import RecipeModule)"
        )
    if getattr(type(model), "loss", None) is RecipeModule.loss:
        with guard("class_names()"):
            names = task.class_names() if task.kind is TaskKind.CLASSIFICATION else None
        problem = _shape_problem(task, datamodule, out, y, names or [])
        if problem:
            return problem
    try:
        with torch.no_grad():
            value = loss(out, y)
    except Exception as error:
        return (
            f"its loss fails on outputs of shape {_shape(out)} and targets of shape "
            f"{_shape(y)}: {first_line(error)}"
        )
    if _finite(x) and isinstance(value, torch.Tensor) and not _finite(value):
        return f"its loss on the first training examples is {float(value)} (its fresh weights)"
    return _own_scores_problem(task, model, out, y)


def _own_scores_problem(
    task: Task[Any], model: pl.LightningModule, out: torch.Tensor, y: torch.Tensor
) -> str:
    """Return what is wrong with what the task's ``own_scores()`` returns, or "".

    Checked here, where a trial would find it only after training. A score that cannot be
    taken of these few examples (one needing every class) is left to the trials, whose
    splits are whole: only what it returns is judged.
    """
    if type(task).own_scores is Task.own_scores or not isinstance(model, RecipeModule):
        return ""
    try:
        with torch.no_grad():
            predictions = model.to_predictions(out).float().numpy()
        scores = task.own_scores(predictions, y.numpy())
    except Exception:
        return ""
    return scores_problem(scores, task.kind)


def _expect_datamodule(datamodule: object) -> None:
    """Raise TypeError unless ``datamodule`` serves training and validation loaders."""
    if not all(callable(getattr(datamodule, f"{p}_dataloader", None)) for p in ("train", "val")):
        raise TypeError(
            f"it returns a {type(datamodule).__name__}, not a LightningDataModule: return "
            "SplitDataModule(self.split, hp) or a LightningDataModule of your own"
        )


def _first_batch(datamodule: Any, part: str) -> Any:
    """Return the first batch ``datamodule`` serves for ``part``; raise when it serves none.

    The validation set decides LR drops, pruning and the best epoch: without a batch of it
    every trial would fail inside Lightning.
    """
    batch = next(iter(getattr(datamodule, f"{part}_dataloader")()), None)
    if batch is None:
        raise ValueError(f"its {part}_dataloader() serves no batch: the {part} set is empty")
    return batch


def first_trial_hparams(run: ResolvedRun) -> HParams:
    """Return the knobs of ``run``'s first trial: its space's defaults."""
    return HParams.from_params(run.space.complete(run.space.defaults()))


def check_run_outputs(run: ResolvedRun) -> None:
    """Check the outputs of ``run``'s (prepared) task's model with the first trial's knobs."""
    check_outputs(run.task, first_trial_hparams(run), run.source)


def check_trial_callbacks(run: ResolvedRun, host: Host) -> None:
    """Ask every plugin for its trial callbacks once, with the first trial's knobs.

    A broken ``ldnn_tune_trial_callbacks`` hook is then one line naming its plugin before
    any trial, not three failed trials blamed on the task being tuned.
    """
    host.trial_callbacks(run.task, first_trial_hparams(run))


def check_outputs(task: Task[Any], hp: HParams, source: str) -> None:
    """Raise a one-line :class:`PluginError` when ``task``'s model does not fit its targets.

    A plugin bug met on the way (an exception from ``datamodule()``, ``model()``, the
    model's forward pass or ``class_names()``) is reported as the plugin's too, naming
    the step; ``source`` names the package the task comes from.
    """
    problem = output_problem(task, hp, lambda step: plugin_code(task.name, source, step))
    if problem:
        what = f"has a model that does not fit its data: {problem}"
        raise PluginError(task.name, source, what, ValueError(problem))


def _shape_problem(
    task: Task[Any], datamodule: Any, out: torch.Tensor, y: torch.Tensor, names: list[str]
) -> str:
    """Return the mismatch between outputs and targets under the recipe's own loss, or ""."""
    if task.kind is TaskKind.REGRESSION:
        if not y.is_floating_point():
            return f"regression targets must be floats, the datamodule serves {y.dtype}"
        per_out, per_target = out[0].numel(), y[0].numel()
        if per_out != per_target:
            return (
                f"model() outputs {per_out} values per example (shape {_shape(out)}), but "
                f"each regression target holds {per_target} (shape {_shape(y)})"
            )
        return ""
    if y.is_floating_point():
        return f"classification targets must be class indices (int64), not {y.dtype}"
    if out.shape[:-1] != y.shape:
        return (
            f"model() outputs shape {_shape(out)} for targets of shape {_shape(y)}; "
            "cross-entropy needs one score vector per target: (..., classes) for (...)"
        )
    scores = out.shape[-1]
    if names and scores != len(names):
        return (
            f"model() outputs {scores} class scores, but class_names() names {len(names)} classes"
        )
    smallest, largest = _label_range(datamodule, y)
    if smallest < 0:
        return f"the targets hold class index {smallest}; class indices run from 0"
    if largest >= scores:
        return (
            f"model() outputs {scores} class scores, but the targets hold class index "
            f"{largest} (at least {largest + 1} classes)"
        )
    return ""


def _label_range(datamodule: Any, y: torch.Tensor) -> tuple[int, int]:
    """Return the smallest and largest class index in the data (in the batch, for others')."""
    if isinstance(datamodule, SplitDataModule):
        split = datamodule.split
        parts = [part for part in (split.y_train, split.y_val, split.y_test) if part.numel()]
        return min(int(part.min()) for part in parts), max(int(part.max()) for part in parts)
    return int(y.min()), int(y.max())


def _has_nan(tensor: torch.Tensor) -> bool:
    """Return whether ``tensor`` holds a NaN (-inf scores mask classes, and are no fault)."""
    return tensor.is_floating_point() and bool(torch.isnan(tensor).any())


def _finite(tensor: torch.Tensor) -> bool:
    """Return whether ``tensor`` holds no NaN or infinity (one of integers always)."""
    return not tensor.is_floating_point() or bool(torch.isfinite(tensor).all())


def _shape(tensor: torch.Tensor) -> str:
    return "(" + ", ".join(str(n) for n in tensor.shape) + ("," if tensor.ndim == 1 else "") + ")"
