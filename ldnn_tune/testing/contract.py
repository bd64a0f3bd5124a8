"""The contract every task plugin passes: subclass :class:`TaskContract` in your tests.

Example::

    from ldnn_tune.testing.contract import TaskContract
    from my_plugin import MyTask

    class TestMyTask(TaskContract):
        task_class = MyTask

Override :meth:`TaskContract.make_task` to pass small options or a ``data_dir`` so the
suite runs in seconds, :meth:`TaskContract.contract_params` to pin small knob values, and
:meth:`TaskContract.prediction_inputs` to write a few files ``read_inputs`` reads.
"""

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import pytest
import torch
from torch import nn

from ldnn_tune.config.settings import RunConfig
from ldnn_tune.config.words import field_names
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.errors import UsageError
from ldnn_tune.health.checks import run_checks
from ldnn_tune.health.outputs import output_problem
from ldnn_tune.plugin.codec import TextCodec
from ldnn_tune.plugin.scores import own_scores, scores_problem
from ldnn_tune.plugin.task import Task, TaskKind
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.recipe.init import LAZY_STD
from ldnn_tune.space.load import task_space
from ldnn_tune.trial.predictions import predict_loader
from ldnn_tune.trial.training import train_trial


class TaskContract:
    """Checks that a task builds, trains, reports ``val_loss`` and respects the knobs."""

    task_class: ClassVar[type[Task[Any]]]
    # the task's own names one letter from a hook's on purpose (a helper called models)
    hook_lookalikes: ClassVar[frozenset[str]] = frozenset()

    def make_task(self, tmp_path: Path) -> Task[Any]:
        """Return an unprepared task with small options; override for data or options."""
        return self.task_class(self.task_class.options_type(), None, 0)

    def contract_params(self) -> dict[str, Any]:
        """Return knob values to pin on top of the space's defaults (e.g. a small width)."""
        return {}

    def prediction_inputs(self, task: Task[Any], tmp_path: Path) -> list[Path]:
        """Return input files for ``task.read_inputs`` (written under ``tmp_path``).

        ``task`` is prepared. The default, none, checks only that a missing file is a
        ``UsageError``; return a few files (e.g. made from training examples) to check
        what ``read_inputs`` makes of them too.
        """
        return []

    @pytest.fixture
    def task(self, tmp_path: Path) -> Task[Any]:
        """Return the task, prepared."""
        quiet_frameworks()
        task = self.make_task(tmp_path)
        task.prepare()
        return task

    def hparams(self, task: Task[Any], **overrides: Any) -> HParams:
        """Return the space's defaults with the contract params and ``overrides`` applied."""
        return HParams.for_task(task, **{**self.contract_params(), **overrides})

    def test_declares_name_description_and_options(self) -> None:
        """Contract: the task declares name description and options."""
        cls = self.task_class
        assert cls.name and cls.name.isidentifier()
        assert cls.description and "\n" not in cls.description
        assert dataclasses.is_dataclass(cls.options_type)
        assert isinstance(cls.kind, TaskKind)

    def test_no_method_misspells_a_task_hook(self) -> None:
        """Contract: no name is one typo from a Task hook's (read_input, class_name).

        A misspelt optional hook is never called: the task silently keeps the default.
        A name one letter from a hook's on purpose goes in :attr:`hook_lookalikes`.
        """
        hooks = [name for name in dir(Task) if not name.startswith("_")]
        own = set(dir(self.task_class)) - set(dir(Task)) - set(self.hook_lookalikes)
        misses = {
            name: hook
            for name in sorted(own)
            for hook in hooks
            if not name.startswith("_") and one_typo_apart(name, hook)
        }
        assert not misses, (
            f"misspelt hooks (name: the hook meant): {misses}; a name meant as it is goes "
            "in the suite's hook_lookalikes"
        )

    def test_options_do_not_shadow_host_keys(self) -> None:
        """Contract: the task options do not shadow host keys."""
        shadowed = set(field_names(self.task_class.options_type)) & set(field_names(RunConfig))
        assert not shadowed, f"task options shadow host keys: {shadowed}"

    def test_search_space_loads_with_valid_defaults(self, task: Task[Any]) -> None:
        """Contract: the task search space loads with valid defaults."""
        space = task_space(task)
        assert "lr" in space.names
        overlap = set(space.names) & set(field_names(RunConfig))
        assert not overlap, f"knobs shadow host keys: {overlap}"
        for name, value in space.defaults().items():
            dist = space[name].distribution
            assert dist._contains(dist.to_internal_repr(value)), name

    def test_prepare_can_be_called_again(self, task: Task[Any]) -> None:
        """Contract: the task prepare can be called again."""
        task.prepare()

    def test_trains_one_epoch_and_reports_val_loss(self, task: Task[Any]) -> None:
        """Contract: the task trains one epoch and reports val loss (and its own scores)."""
        outcome = train_trial(task, self.hparams(task), seed=0, max_epochs=1, min_lr=1e-12)
        assert np.isfinite(outcome.best_val_loss)
        assert outcome.best_epoch == 0
        preds = outcome.predictions
        assert len(preds["val_predictions"]) == len(preds["val_targets"]) > 0
        assert len(preds["test_predictions"]) == len(preds["test_targets"]) > 0
        assert abs(outcome.val_scores["loss"] - outcome.best_val_loss) < 1e-3
        own = task.own_scores(preds["val_predictions"], preds["val_targets"])
        problem = scores_problem(own, task.kind)  # as the host takes them
        assert not problem, problem
        values = own_scores(task, preds["val_predictions"], preds["val_targets"])
        assert all(np.isfinite(v) for v in values.values()), values

    def test_model_outputs_fit_the_targets(self, task: Task[Any]) -> None:
        """Contract: the model outputs what the loss consumes, one score per named class."""
        problem = output_problem(task, self.hparams(task))
        assert not problem, problem

    def test_class_names_fit_the_kind(self, task: Task[Any]) -> None:
        """Contract: class_names() gives distinct strings, and none for a regression task."""
        names = task.class_names()
        if names is None:
            return
        assert isinstance(names, list) and all(isinstance(n, str) for n in names), names
        if task.kind is TaskKind.REGRESSION:
            assert not names, f"a regression task names no classes, got {names}"
        assert len(set(names)) == len(names), f"class names repeat: {names}"

    def test_unread_options_are_options_at_their_defaults(self, task: Task[Any]) -> None:
        """Contract: unread_options() names options, each at its default (nothing is hidden)."""
        unread = task.unread_options()
        fields = {f.name: f for f in dataclasses.fields(task.options_type)}
        assert unread <= set(fields), f"not options: {sorted(unread - set(fields))}"
        for name in unread:
            factory = fields[name].default_factory
            has_factory = factory is not dataclasses.MISSING
            default = factory() if has_factory else fields[name].default  # type: ignore[operator]
            value = getattr(task.options, name)
            # None: a size the task fills in
            assert value == default or default is None, f"{name}={value} is set, not unread"

    def test_text_codec_fits_the_model(self, task: Task[Any]) -> None:
        """Contract: a task's text_codec() names its classes and its model reads prompt ids.

        Only for a task whose text_codec() returns one: ``ldnn-tune generate`` feeds its
        model a ``(1, T)`` tensor of character ids, ``T`` from 1 to the context, and reads
        the next character's scores at the last step.
        """
        codec = task.text_codec()
        if codec is None:
            return
        assert isinstance(codec, TextCodec), f"text_codec() returned {type(codec).__name__}"
        assert task.kind is TaskKind.CLASSIFICATION, "a text model is a classifier"
        names = task.class_names()
        assert names is not None and tuple(names) == codec.characters, (
            "text_codec()'s characters are the class_names()"
        )
        model = task.model(self.hparams(task))
        model.eval()
        for steps in sorted({1, codec.context}):
            ids = torch.tensor([codec.encode(codec.characters[-1] * steps)], dtype=torch.int64)
            with torch.no_grad():
                scores = model(ids)
            assert tuple(scores.shape) == (1, steps, len(codec.characters)), (
                f"{steps} ids gave scores of shape {tuple(scores.shape)}"
            )

    def test_read_inputs_gives_model_ready_inputs(self, task: Task[Any], tmp_path: Path) -> None:
        """Contract: read_inputs refuses a missing file and reads inputs shaped like training's.

        Only for a task that implements ``read_inputs``; the inputs are those
        :meth:`prediction_inputs` writes (tables, for a task that ``reads_tables``).
        """
        if type(task).read_inputs is Task.read_inputs:
            return  # the task reads no input files
        missing = tmp_path / "no-such-input"
        with pytest.raises(UsageError, match="no-such-input"):
            task.read_inputs([missing])
        paths = self.prediction_inputs(task, tmp_path)
        if not paths:
            return
        hp = self.hparams(task)
        if task.reads_tables:  # the host reads a table at a time: one input per row
            parts = [task.read_inputs([path]) for path in paths]
            assert all(isinstance(p, torch.Tensor) and len(p) > 0 for p in parts)
            inputs = torch.cat(parts)
        else:
            inputs = task.read_inputs(paths)
            assert isinstance(inputs, torch.Tensor)
            assert len(inputs) == len(paths), "read_inputs gives one input per file"
        x, _ = next(iter(task.datamodule(hp).val_dataloader()))
        assert inputs.shape[1:] == x.shape[1:] and inputs.dtype == x.dtype, (
            f"inputs {tuple(inputs.shape)} {inputs.dtype}, training {tuple(x.shape)} {x.dtype}"
        )
        model = task.model(hp)
        model.eval()
        with torch.no_grad():
            assert model(inputs).shape[1:] == model(x[:1]).shape[1:]

    def test_uses_lr_momentum_and_batch_size(self, task: Task[Any]) -> None:
        """Contract: the task uses lr momentum and batch size."""
        hp = self.hparams(task, lr=0.037, momentum=0.5, batch_size=32)
        model = task.model(hp)
        optimizer = cast(dict[str, Any], model.configure_optimizers())["optimizer"]
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.037)
        assert optimizer.param_groups[0]["momentum"] == pytest.approx(0.5)
        assert task.datamodule(hp).train_dataloader().batch_size == 32

    def test_dropout_knob_reaches_the_model_and_is_off_in_eval(self, task: Task[Any]) -> None:
        """Contract: the task dropout knob reaches the model and is off in eval."""
        model = task.model(self.hparams(task, dropout=0.4))
        dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
        assert dropouts and all(m.p == pytest.approx(0.4) for m in dropouts)
        loader = task.datamodule(self.hparams(task)).val_dataloader()
        first, _ = predict_loader(model, loader)
        second, _ = predict_loader(model, loader)
        np.testing.assert_array_equal(first, second)

    def test_lazy_init_is_two_hundredths(self, task: Task[Any]) -> None:
        """Contract: the task lazy init is two hundredths."""
        model = task.model(self.hparams(task, init="lazy"))
        weights = torch.cat(
            [
                m.weight.detach().flatten()
                for m in model.modules()
                if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d)
            ]
        )
        assert weights.std().item() == pytest.approx(LAZY_STD, rel=0.2)

    def test_scaled_init_follows_fan_in(self, task: Task[Any]) -> None:
        """Contract: the task scaled init follows fan in."""
        model = task.model(self.hparams(task, init="scaled", init_scale=0.5))
        for layer in model.modules():
            if isinstance(layer, nn.Linear | nn.Conv1d | nn.Conv2d) and layer.weight.numel() > 200:
                expected = 0.5 / layer.weight[0].numel() ** 0.5
                assert layer.weight.std().item() == pytest.approx(expected, rel=0.25)

    @pytest.mark.parametrize("threads", [1, 2])
    def test_passes_the_preflight_checks(self, task: Task[Any], threads: int) -> None:
        """Contract: the data, batch mean, gradient, init scale and overfit checks pass.

        With the contract knobs, under 1 and 2 torch threads: a verdict must not hang on
        the machine's thread count.
        """
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            failed = [r for r in run_checks(task, self.hparams(task)) if not r.passed]
        finally:
            torch.set_num_threads(before)
        assert not failed, "; ".join(f"{r.name}: {r.detail}" for r in failed)

    def test_same_seed_same_split_and_model(self, tmp_path: Path) -> None:
        """Contract: the task same seed same split and model."""
        first, second = self.make_task(tmp_path), self.make_task(tmp_path)
        first.prepare()
        second.prepare()
        hp = self.hparams(first)
        a = next(iter(first.datamodule(hp).val_dataloader()))
        b = next(iter(second.datamodule(hp).val_dataloader()))
        torch.testing.assert_close(a[0], b[0])
        torch.manual_seed(0)
        wa = next(iter(first.model(hp).parameters())).detach().clone()
        torch.manual_seed(0)
        wb = next(iter(second.model(hp).parameters())).detach().clone()
        torch.testing.assert_close(wa, wb)


def one_typo_apart(name: str, hook: str) -> bool:
    """Return whether ``name`` is ``hook`` with one letter added, dropped, changed or swapped."""
    if name == hook or abs(len(name) - len(hook)) > 1:
        return False
    if len(name) == len(hook):
        differ = [i for i, (a, b) in enumerate(zip(name, hook, strict=True)) if a != b]
        swapped = (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and name[differ[0]] == hook[differ[1]]
            and name[differ[1]] == hook[differ[0]]
        )
        return len(differ) == 1 or swapped
    short, long = sorted((name, hook), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
