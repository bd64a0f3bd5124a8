"""The sequence task: data and model for ``ldnn-tune run task=sequence``.

The module loads no torch: the data, nets and module load when a study needs them.
"""

from __future__ import annotations

from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ldnn_tune import Domain, HParams, Task, TaskKind, TextCodec, gpu_available, positive
from ldnn_tune_sequence.options import READ_BY, SequenceOptions

if TYPE_CHECKING:
    import lightning.pytorch as pl
    import numpy as np
    from torch import nn

    from ldnn_tune import RecipeModule
    from ldnn_tune_sequence.data import SequenceData

# The knobs at each scale's sizes, package data next to this module; the text problem, a
# character language model, has its own (larger nets, a higher first-trial LR).
SPACE_FILES = {"cpu": "sequence-cpu.yaml", "gpu": "sequence.yaml"}
TEXT_SPACE_FILES = {"cpu": "text-cpu.yaml", "gpu": "text.yaml"}
SIZE_OPTIONS = ("length", "train_size", "eval_size")  # what a scale fills in when not given
MLP_SPACE_FILE = "mlp.yaml"
SORT_SPACE_FILE = "sort.yaml"


class SequenceTask(Task[SequenceOptions]):
    """LSTMs on generated long-range problems (adding, copy, parity, sort) or a text file.

    The adding problem is regression (MSE); the others are classification, per position.
    Sizes (sequence length, how many sequences, the hidden sizes searched) follow
    ``scale``: the article's on a GPU, smaller ones that train in seconds on a CPU.
    """

    name = "sequence"
    description = "LSTM sequence problems: adding (default), copy, parity, sort, text (data_dir)"
    options_type = SequenceOptions

    def __init__(self, options: SequenceOptions, data_dir: Path | None, seed: int) -> None:
        """Keep the options with their sizes decided; adding makes this a regression."""
        needs_device = options.scale == "auto"
        # the sizes typed, which the scale does not fill in: the data line says so
        self.given_sizes = tuple(k for k in SIZE_OPTIONS if getattr(options, k) is not None)
        super().__init__(options.sized(gpu=needs_device and gpu_available()), data_dir, seed)
        self.kind = TaskKind.REGRESSION if options.problem == "adding" else TaskKind.CLASSIFICATION
        self.splits_in_order = options.problem == "text"  # a text cut in three, in file order
        self.data: SequenceData | None = None

    def search_space(self) -> Path | Traversable | list[Path | Traversable]:
        """Return the knobs (hidden, layers, forget_bias, clip_norm) for the scale's sizes.

        With ``model=mlp`` the LSTM's knobs (layers, forget_bias) are removed: the
        two-hidden-layer net has neither, and searching them would only add noise. The
        LSTM's first trial on ``problem=sort`` starts from the scaled init (sort.yaml).
        """
        by_scale = TEXT_SPACE_FILES if self.options.problem == "text" else SPACE_FILES
        own = files("ldnn_tune_sequence")
        scaled = own / by_scale[self.options.scale]
        if self.options.model == "mlp":
            return [scaled, own / MLP_SPACE_FILE]
        return [scaled, own / SORT_SPACE_FILE] if self.options.problem == "sort" else scaled

    def knob_domains(self) -> dict[str, Domain]:
        """Return what the nets accept: whole hidden sizes and layer counts."""
        return {"hidden": positive(integer=True), "layers": positive(integer=True)}

    def prepare(self) -> None:
        """Generate (or read) the data once; later calls do nothing."""
        from ldnn_tune_sequence.data import load_data

        if self.data is None:
            self.data = load_data(self.options, self.data_dir, self.seed)

    def describe_data(self) -> str:
        """Return the data source, split sizes and the scale the sizes follow."""
        data = self._data()
        s = data.split
        scale = self.options.scale
        other = "gpu" if scale == "cpu" else "cpu"
        given = ", ".join(f"{k}={getattr(self.options, k)}" for k in self.given_sizes)
        switch = f"(scale={other} for the {other}'s"
        if len(self.given_sizes) == len(SIZE_OPTIONS):
            sized = f"sizes as given, the search space {scale}-sized {switch})"
        else:
            rest = f"{given} as given, the rest " if given else ""
            sized = f"{rest}{scale}-sized {switch} sizes)"
        return (
            f"data: {data.source}, "
            f"{len(s.y_train)}/{len(s.y_val)}/{len(s.y_test)} train/val/test sequences, {sized}"
        )

    def unread_options(self) -> frozenset[str]:
        """Return the options only other problems read (each at its default: others are refused)."""
        problem = self.options.problem
        return frozenset(name for name, readers in READ_BY.items() if problem not in readers)

    def own_scores(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        """Return the article's score of the problem: adding ``solved``, copy/sort ``seq_acc``.

        ``solved``: the share of sums predicted within 0.04; ``seq_acc``: the share of
        sequences with every position right (``acc`` counts positions). Text:
        ``nats_per_char`` (its loss, named). Parity: none beyond accuracy.
        """
        from ldnn_tune_sequence.scores import problem_scores

        return problem_scores(self.options.problem, predictions, targets)

    def class_names(self) -> list[str] | None:
        """Return the text's characters, in id order; None for the generated problems."""
        return self._data().characters

    def text_codec(self) -> TextCodec | None:
        """Return the text's characters and window for ``ldnn-tune generate`` (text only)."""
        if self.options.problem != "text":  # known before the data is read
            return None
        characters = self._data().characters
        if characters is None:
            return None
        return TextCodec(tuple(characters), self.options.sizes[0])

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared split in minibatches of the trial's batch size."""
        from ldnn_tune import SplitDataModule

        return SplitDataModule(self._data().split, hp.recipe.batch_size)

    def model(self, hp: HParams) -> RecipeModule:
        """Return the LSTM (or two-hidden-layer net), initialised per the knobs."""
        from ldnn_tune import apply_init
        from ldnn_tune_sequence.module import SequenceModule
        from ldnn_tune_sequence.nets import LSTMNet, init_lstm

        net = self._net(hp)
        apply_init(net, hp.recipe)
        if isinstance(net, LSTMNet):
            init_lstm(
                net.lstm,
                hp.recipe.init,
                hp.recipe.init_scale,
                hp.get_float("forget_bias"),
            )
        return SequenceModule(net, hp.recipe, self.kind, self.options.problem)

    def _net(self, hp: HParams) -> nn.Module:
        from ldnn_tune_sequence.nets import LSTMNet, TwoLayerNet

        data = self._data()
        hidden = hp.get_int("hidden")
        if self.options.model == "mlp":
            inputs = data.split.x_train[0].numel()
            return TwoLayerNet(inputs, hidden, hp.recipe.dropout, data.positions, data.classes)
        tail = None if data.vocab is not None else data.positions
        return LSTMNet(
            data.features,
            hidden,
            hp.get_int("layers"),
            hp.recipe.dropout,
            data.classes,
            tail,
            data.vocab,
        )

    def _data(self) -> SequenceData:
        if self.data is None:
            raise RuntimeError("call prepare() before using the task's data")
        return self.data
