"""The sequence task: data and model for ``ldnn-tune run task=sequence``."""

from importlib.abc import Traversable
from pathlib import Path

import lightning.pytorch as pl
from torch import nn

from ldnn_tune import HParams, RecipeModule, SplitDataModule, Task, TaskKind, apply_init
from ldnn_tune.space.load import space_file
from ldnn_tune_sequence.data import SequenceData, load_data
from ldnn_tune_sequence.module import SequenceModule
from ldnn_tune_sequence.nets import LSTMNet, TwoLayerNet, init_lstm
from ldnn_tune_sequence.options import SequenceOptions


class SequenceTask(Task[SequenceOptions]):
    """LSTMs on generated long-range problems (adding, copy, parity, sort) or a text file.

    The adding problem is regression (MSE); the others are classification, per position.
    """

    name = "sequence"
    description = "LSTM sequence problems: adding (default), copy, parity, sort, text (data_dir)"
    options_type = SequenceOptions

    def __init__(self, options: SequenceOptions, data_dir: Path | None, seed: int) -> None:
        """Keep the options; the adding problem makes this task a regression."""
        super().__init__(options, data_dir, seed)
        self.kind = TaskKind.REGRESSION if options.problem == "adding" else TaskKind.CLASSIFICATION
        self.data: SequenceData | None = None

    def search_space(self) -> Path | Traversable:
        """Return search_spaces/sequence.yaml (hidden, layers, forget_bias, clip_norm)."""
        return space_file("sequence.yaml")

    def prepare(self) -> None:
        """Generate (or read) the data once; later calls do nothing."""
        if self.data is None:
            self.data = load_data(self.options, self.data_dir, self.seed)

    def describe_data(self) -> str:
        """Return the data source and split sizes."""
        data = self._data()
        s = data.split
        return (
            f"data: {data.source}, "
            f"{len(s.y_train)}/{len(s.y_val)}/{len(s.y_test)} train/val/test sequences"
        )

    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Serve the prepared split in minibatches of the trial's batch size."""
        return SplitDataModule(self._data().split, hp.recipe.batch_size, seed=self.seed)

    def model(self, hp: HParams) -> RecipeModule:
        """Return the LSTM (or two-hidden-layer net), initialised per the knobs."""
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
