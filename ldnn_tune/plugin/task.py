"""The interface a task plugin implements: data, augmentation, model, search space, options."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ldnn_tune.errors import UsageError

if TYPE_CHECKING:  # torch and Lightning load with a task's data and model, not with its class
    import lightning.pytorch as pl
    import numpy as np
    import torch

    from ldnn_tune.plugin.codec import TextCodec
    from ldnn_tune.recipe.data import Standardizer
    from ldnn_tune.recipe.hparams import HParams
    from ldnn_tune.space.domains import Domain


class TaskKind(StrEnum):
    """What the model's outputs are: class scores (softmax + NLL) or real values (MSE)."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


@dataclass(frozen=True)
class NoOptions:
    """Options of a task that declares none."""


OptionsT = TypeVar("OptionsT")
# what search_space() returns: one YAML file, or several merged in order
SpaceFiles = Path | Traversable | Sequence[Path | Traversable]


class Task(ABC, Generic[OptionsT]):
    """A problem ldnn-tune can tune a net for.

    A plugin subclasses this, e.g. ``class BlobTask(Task[BlobOptions])``, and returns the
    class from its ``ldnn_tune_tasks`` hook. The host constructs it once per study with the
    typed options the user gave, calls :meth:`prepare` before any study exists (so a bad
    ``data_dir`` creates nothing), then per trial :meth:`datamodule` and :meth:`model`.

    Class attributes to set:
        name: the word users type after ``task=``.
        description: one line for ``ldnn-tune tasks``.
        options_type: a dataclass of typed ``key=value`` options (``OptionsT``); validate
            ranges in its ``__post_init__`` by raising ``ValueError`` with a one-line message.
        kind: :class:`TaskKind` of the model's outputs (may be set per instance in
            ``__init__`` when an option decides it).
        standardises_in_model: set True when the datamodule serves raw inputs that the
            model standardises itself with training statistics.
        reads_tables: set True when each prediction input file is a table of many inputs
            (e.g. CSV rows); :meth:`read_inputs` then returns one input per row.
        input_suffixes: the file suffixes :meth:`read_inputs` reads (``(".wav",)``); a
            folder given to ``ldnn-tune predict`` contributes only those files.
        data_suffixes: the file suffixes the task reads from a ``data_dir`` folder; files
            of other kinds (a user's ``notes.txt``) are then left out of the data
            fingerprint, so adding one neither ends a study nor stops ``predict``.
        splits_in_order: set True (per instance, like ``kind``) when the train, validation
            and test splits are consecutive parts of one stream, such as a text: a sample
            in two splits is then the data repeating itself (a chorus, a name), not a
            sample the split copied, and the data check notes it instead of failing.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    options_type: ClassVar[type[Any]] = NoOptions
    kind: TaskKind = TaskKind.CLASSIFICATION  # a task may set it per instance from its options
    # True when the model standardises its own features (e.g. log-mel statistics inside the
    # net of a task that serves raw waveforms); the data check then skips input statistics
    standardises_in_model: ClassVar[bool] = False
    # True when each prediction input file is a table (e.g. a CSV file) whose rows are
    # separate inputs: ``ldnn-tune predict`` scores every row; False: one input per file
    reads_tables: ClassVar[bool] = False
    # the suffixes of the files read_inputs reads, lower case: a folder given to predict
    # contributes only those (a stray notes.txt is skipped); () takes every file
    input_suffixes: ClassVar[tuple[str, ...]] = ()
    # the suffixes of the files prepare() reads from a data_dir folder, lower case: only
    # those count in the data fingerprint a study and its ensembles keep; () counts all
    data_suffixes: ClassVar[tuple[str, ...]] = ()
    # True when the splits are consecutive parts of one stream (a text cut in file order)
    splits_in_order: bool = False

    def __init__(self, options: OptionsT, data_dir: Path | None, seed: int) -> None:
        """Keep the user's ``options``, optional ``data_dir`` and the study ``seed``.

        The seed fixes the train/validation/test split, so every trial of a study (and
        the ensemble of its best trials) sees the same split.
        """
        self.options = options
        self.data_dir = data_dir
        self.seed = seed

    @abstractmethod
    def search_space(self) -> SpaceFiles:
        """Return the YAML file of this task's own knobs (merged over the shared recipe).

        A task whose knobs depend on its options may return several files, merged in
        order over the recipe (e.g. a file of knobs that only an option makes useful).
        """

    @abstractmethod
    def prepare(self) -> None:
        """Load or generate the data and split it; raise ``UsageError`` for bad input.

        Called once per process before any trial; must be cheap to call again.
        """

    @abstractmethod
    def datamodule(self, hp: HParams) -> pl.LightningDataModule:
        """Return the data for one trial, batched with ``hp.recipe.batch_size``.

        It must provide train, val and test dataloaders of ``(inputs, targets)`` batches;
        inputs standardised with statistics of the training split only.
        """

    @abstractmethod
    def model(self, hp: HParams) -> pl.LightningModule:
        """Return a fresh model for one trial, normally a :class:`ldnn_tune.RecipeModule`."""

    def describe_data(self) -> str:
        """Return one line about the prepared data (sizes, source) for the terminal."""
        return ""

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        """Return model-ready inputs (preprocessed like training data) read from ``paths``.

        ``ldnn-tune predict`` calls this on a prepared task. One input per path, in order;
        for a task with ``reads_tables`` the host passes one file at a time and takes one
        input per row of it. Raise UsageError naming a file that cannot be read. The
        default says the task reads no input files.
        """
        raise UsageError(f"task {self.name!r} cannot read input files for prediction")

    def raw_train_inputs(self) -> torch.Tensor | None:
        """Return the training inputs before any transform, for the log(1+x) data check.

        The default (None) skips that part of ``ldnn-tune check``.
        """
        return None

    def class_names(self) -> list[str] | None:
        """Return the names of the classes, in output order (None: regression or unnamed)."""
        return None

    def unread_options(self) -> frozenset[str]:
        """Return the names of the options these options leave unread (another problem's).

        The study's MLflow run and report leave them out. Default: none.
        """
        return frozenset()

    def own_scores(self, predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        """Return the task's own scores of a trial's kept net, beside loss and accuracy.

        Called on the validation and on the test split's ``predictions`` (class
        probabilities, or regression outputs in the model's units) and ``targets``, after
        each trial: each ``NAME`` is recorded as ``val_NAME`` and ``test_NAME`` (trial
        attributes, MLflow metrics) and shown in the summary (the sequence task: the
        share of sums ``solved``, whole sequences right, ``seq_acc``). An ensemble's
        averaged predictions are scored by it too. Default: none.
        """
        return {}

    def target_transform(self) -> Standardizer | None:
        """Return how this regression task scaled its targets, to map outputs back to units.

        A task whose targets are in units far from zero mean and unit variance (prices,
        temperatures) trains best on standardised targets: fit a
        :class:`ldnn_tune.Standardizer` on the training targets in :meth:`prepare`
        (``Standardizer.fit(y_train, dims=(0,))``, with ``log1p=True`` for targets spanning
        orders of magnitude), serve the standardised targets from the
        datamodule, and return it here. The host then maps the model's outputs back with
        ``Standardizer.inverse``: ``predict`` prints values in the target's units, trials
        and ensembles report MSE and MAE in them (``val_loss``, the loss that trains and
        that the search minimises, stays in standardised units), and ensemble bundles save
        it. The default, None, is the identity: outputs are in the target's units already.
        Classification tasks keep the default.
        """
        return None

    def text_codec(self) -> TextCodec | None:
        """Return the characters and context of a model that predicts the next character.

        ``ldnn-tune generate`` samples text from an ensemble of a task that returns one:
        its model reads a ``(1, T)`` tensor of character ids and scores the next character
        at every step (a classification task whose :meth:`class_names` are the
        characters; the sequence task's ``problem=text``). Default None: the task's
        model generates no text.
        """
        return None

    def knob_domains(self) -> dict[str, Domain]:
        """Return what this task's code accepts for each of its own knobs.

        A space file that could sample a value outside a knob's domain is refused when it
        loads, naming the knob. The default declares none.
        """
        return {}


def reads_input_files(task: type[Task[Any]]) -> bool:
    """Return whether ``task`` overrides :meth:`Task.read_inputs`: ``predict`` can serve it."""
    return task.read_inputs is not Task.read_inputs


def generates_text(task: type[Task[Any]]) -> bool:
    """Return whether ``task`` overrides :meth:`Task.text_codec`: it may generate text."""
    return task.text_codec is not Task.text_codec


def ensemble_use(task: Task[Any]) -> str:
    """Return the command that runs the prepared ``task``'s ensembles: predict, generate or ""."""
    if reads_input_files(type(task)):
        return "predict"
    return "generate" if generates_text(type(task)) and task.text_codec() is not None else ""
