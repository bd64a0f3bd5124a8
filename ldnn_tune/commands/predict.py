"""``ldnn-tune predict``: run a saved ensemble on new input files.

One output row per input: per file for tasks that read one input from each file (images,
recordings), per row for tasks that read tables (``Task.reads_tables``, e.g. CSV files).
Classification rows hold the most probable class and its probability (``score``);
regression rows the value and the ``spread`` of the members' values around it.
"""

import csv
import glob
import shlex
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console

from ldnn_tune.config.outputs import refuse_output_in_data
from ldnn_tune.config.settings import PredictConfig
from ldnn_tune.config.stores import check_model_source
from ldnn_tune.config.words import parse_words
from ldnn_tune.console.tables import predictions_table
from ldnn_tune.errors import EXIT_OK, PluginError, UsageError, choices_text
from ldnn_tune.plugin.calls import plugin_code
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.plugin.task import Task, TaskKind, ensemble_use, reads_input_files
from ldnn_tune.urls import store_words

if TYPE_CHECKING:  # torch loads with the ensemble, not with the command's words
    import torch

    from ldnn_tune.ensembles.bundle import LoadedEnsemble

SHOWN_ROWS = 50  # rows printed to the terminal; output=FILE.csv holds them all


@dataclass(frozen=True)
class InputPaths:
    """What ``input=`` names: files to read, files of other kinds and sub-folders left out."""

    paths: list[Path]
    skipped: list[Path]
    folders: list[Path]


@dataclass(frozen=True)
class Predictions:
    """What ``predict`` prints and writes: a header and one row of cells per input."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def main(words: Sequence[str], console: Console) -> int:
    """Run a saved ensemble on input files the task can read."""
    config = parse_words(PredictConfig, words)
    from ldnn_tune.console.quiet import quiet_frameworks

    quiet_frameworks()
    predict(config, Host(get_plugin_manager()), console)
    return EXIT_OK


def input_paths(text: str, suffixes: Sequence[str] = ()) -> InputPaths:
    """Expand comma-separated files and folders into the paths to read and those left out.

    A folder gives its files, sorted, less hidden ones and, when the task names the
    ``suffixes`` it reads, less files of other kinds (skipped); its sub-folders are not
    entered (named in ``folders``). A file named on its own is always read.
    """
    found = InputPaths([], [], [])
    for part in _parts(text):
        path = Path(part)
        if path.is_dir():
            for item in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
                if item.is_dir():
                    found.folders.append(item)
                elif not suffixes or item.suffix.lower() in suffixes:
                    found.paths.append(item)
                else:
                    found.skipped.append(item)
        elif path.is_file():
            found.paths.append(path)
        else:
            raise UsageError(missing_input(part))
    if not found.paths:
        kinds = f" ({', '.join(suffixes)})" if suffixes else ""
        folders = ""
        if found.folders:
            named = ",".join(str(p) for p in found.folders[:2])
            folders = f"; its sub-folders are read when named: input={named}"
        raise UsageError(f"input {text!r} holds no files the task reads{kinds}{folders}")
    return found


def _parts(text: str) -> list[str]:
    """Return the comma-separated files and folders of ``input=``, patterns expanded.

    A path that exists as typed is one input even when its name holds a comma. A part
    with ``*``, ``?`` or ``[`` that names no path is a pattern (``pngs/d0*.png``): the
    paths it matches, sorted; one that matches none is an error.
    """
    parts = []
    for part in _typed(text):
        if not _is_pattern(part):
            parts.append(part)
            continue
        matched = sorted(glob.glob(part))
        if not matched:
            raise UsageError(f"input {part!r} matches no file")
        parts += matched
    return parts


def _typed(text: str) -> list[str]:
    """Return the comma-separated parts of ``input=`` as typed (one, if it exists whole)."""
    if text.strip() and Path(text.strip()).exists():
        return [text.strip()]
    return [part for part in (p.strip() for p in text.split(",")) if part]


def _is_pattern(part: str) -> bool:
    """Return whether ``part`` of ``input=`` is a file pattern, not a path."""
    return any(c in part for c in "*?[") and not Path(part).exists()


def _note_left_out(console: Console, found: InputPaths, suffixes: Sequence[str]) -> None:
    """Print a note for the files of other kinds and the sub-folders ``input=`` left out."""
    if found.skipped:
        console.print(
            f"note: skipped {len(found.skipped)} file(s) the task does not read "
            f"(not {', '.join(suffixes)}): {_some(found.skipped)}",
            markup=False,
            soft_wrap=True,
        )
    if found.folders:
        console.print(
            f"note: skipped {len(found.folders)} sub-folder(s): {_some(found.folders)}; "
            "a folder's own files are read, name a sub-folder in input= to read it too",
            markup=False,
            soft_wrap=True,
        )


def _some(paths: list[Path]) -> str:
    """Return the first three of ``paths``, then ``...`` when there are more."""
    return ", ".join(str(p) for p in paths[:3]) + (", ..." if len(paths) > 3 else "")


def readable(
    task: Task[Any], paths: list[Path], named: set[Path], source: str
) -> tuple[list[Path], dict[Path, str]]:
    """Return the ``paths`` the task can read, and why each of the others could not be read.

    A file ``named`` on its own that cannot be read is the user's mistake (raised); one
    found in a folder is left out, so one broken file does not stop the rest.
    """
    kept: list[Path] = []
    unread: dict[Path, str] = {}
    for path in paths:
        try:
            _read(task, [path], source)
        except UsageError as error:
            if path in named:
                raise
            unread[path] = str(error)
            continue
        kept.append(path)
    if not kept:
        raise UsageError(f"no input file could be read; the first: {next(iter(unread.values()))}")
    return kept, unread


def predict(config: PredictConfig, host: Host, console: Console) -> Predictions:
    """Predict every input; print a table (and write the CSV); return what was written."""
    from ldnn_tune.ensembles.bundle import open_bundle

    check_model_source(config.model, config.mlflow)
    for part in _parts(config.input):  # a missing input is refused before the bundle is fetched
        if not Path(part).is_file() and not Path(part).is_dir():
            raise UsageError(missing_input(part))
    with tempfile.TemporaryDirectory() as scratch:
        ensemble = open_bundle(config.model, config.mlflow, host, Path(scratch), config.data_dir)
    task = ensemble.task
    if config.output is not None:
        refuse_output_in_data(config.output, task.data_dir, "this ensemble's")
    if not reads_input_files(type(task)):
        readers = [n for n, entry in host.tasks().items() if reads_input_files(entry.task)]
        if task.input_suffixes or task.reads_tables:  # it meant to read files
            problem = "sets input_suffixes or reads_tables but has no read_inputs() (misspelt?)"
            raise PluginError(task.name, ensemble.source, problem, TypeError(problem))
        with plugin_code(task.name, ensemble.source, "text_codec()"):
            if ensemble_use(task) == "generate":
                words = shlex.join([f"model={config.model}", *store_words(mlflow=config.mlflow)])
                raise UsageError(
                    f"task {task.name!r} reads no input files: this ensemble generates text "
                    f"instead, ldnn-tune generate {words}"
                )
        raise UsageError(
            f"task {task.name!r} reads no input files, so its ensembles do not predict; "
            f"the tasks that do: {choices_text(readers) or 'none'}"
        )
    found = input_paths(config.input, task.input_suffixes)
    paths = found.paths
    unread: dict[Path, str] = {}
    _note_left_out(console, found, task.input_suffixes)
    try:
        inputs, where = read_inputs(task, paths, ensemble.source)
    except UsageError:  # a file that cannot be read: read them one by one, leave it out
        # a file a pattern matched is one of many, as a folder's are: left out if unreadable
        named = {Path(p) for p in _typed(config.input) if not _is_pattern(p)}
        paths, unread = readable(task, paths, named, ensemble.source)
        why = list(unread.values())
        console.print(
            f"note: skipped {len(why)} file(s) that could not be read: {'; '.join(why[:3])}"
            + ("; ..." if len(why) > 3 else ""),
            markup=False,
            soft_wrap=True,
        )
        inputs, where = read_inputs(task, paths, ensemble.source)
    predictions = describe(ensemble, inputs, where)
    title = f"predictions of a {len(ensemble.models)}-member ensemble ({task.name})"
    shown = predictions.rows[:SHOWN_ROWS]
    console.print(predictions_table(title, predictions.header, shown))
    if len(shown) < len(predictions.rows):
        rest = f"all in {config.output}" if config.output else "output=FILE.csv writes them all"
        console.print(f"({len(shown)} of {len(predictions.rows)} rows shown; {rest})", markup=False)
    if config.output is not None:
        try:
            with config.output.open(
                "w", newline="", encoding="utf-8", errors="surrogateescape"
            ) as handle:  # a file name that is not UTF-8: its own bytes
                csv.writer(handle).writerows(csv_table(predictions, unread))
        except OSError as error:
            raise UsageError(
                f"cannot write output {str(config.output)!r}: {error.strerror}"
            ) from None
    return predictions


def csv_table(predictions: Predictions, unread: dict[Path, str]) -> list[tuple[str, ...]]:
    """Return the CSV's header and rows, an ``error`` column last.

    The predictions come first (``error`` empty), then one row for each file that could
    not be read, with no prediction and why in ``error``: the CSV names every file given.
    """
    blanks = ("",) * (len(predictions.header) - 1)
    return [
        (*predictions.header, "error"),
        *((*row, "") for row in predictions.rows),
        *((str(path), *blanks, why) for path, why in unread.items()),
    ]


def read_inputs(
    task: Task[Any], paths: Sequence[Path], source: str
) -> tuple["torch.Tensor", list[tuple[str, ...]]]:
    """Return the model-ready inputs in ``paths`` and where each comes from.

    ``(file,)`` per input of a task that reads one input per file; ``(file, row)`` per row
    (from 1) of a task that reads tables. A count that does not add up is the plugin's bug.
    """
    import torch

    if not task.reads_tables:
        inputs = _read(task, paths, source)
        if len(inputs) != len(paths):
            raise PluginError(
                task.name,
                source,
                f"returned {len(inputs)} inputs from read_inputs() for {len(paths)} file(s); "
                "one per file is expected (a task whose files hold many inputs each sets "
                "reads_tables = True)",
                ValueError("read_inputs() count"),
            )
        return inputs, [(str(path),) for path in paths]
    parts = []
    rows: list[tuple[str, ...]] = []
    for path in paths:
        part = _read(task, [path], source)
        if len(part) == 0:
            raise UsageError(f"input {str(path)!r} holds no rows to predict")
        parts.append(part)
        rows += [(str(path), str(row)) for row in range(1, len(part) + 1)]
    return torch.cat(parts), rows


def _read(task: Task[Any], paths: Sequence[Path], source: str) -> "torch.Tensor":
    import torch

    with plugin_code(task.name, source, "read_inputs()"):
        inputs = task.read_inputs(paths)
    if not isinstance(inputs, torch.Tensor):
        raise PluginError(
            task.name,
            source,
            f"returned a {type(inputs).__name__} from read_inputs(), not a tensor",
            TypeError("read_inputs() type"),
        )
    return inputs


def describe(
    ensemble: "LoadedEnsemble", inputs: "torch.Tensor", where: list[tuple[str, ...]]
) -> Predictions:
    """Return the ensemble's predictions for ``inputs`` as rows, after ``where`` they come from.

    Classification: the most probable class (by ``class_names()``, or its index when the
    task names none) and its probability; per position, space-separated, for sequence
    outputs. Regression: the value (space-separated values for several) and the weighted
    standard deviation of the members' values, 0 for one member.
    """
    task = ensemble.task
    # inputs read_inputs() made that the model cannot take are the plugin's bug
    with plugin_code(task.name, ensemble.source, "the model's forward pass on read_inputs()"):
        members = ensemble.member_predictions(inputs)
    average = ensemble.average(members)
    place = ("input", "row") if task.reads_tables else ("input",)
    if task.kind is TaskKind.REGRESSION:
        spread = _weighted_std(members, average, ensemble.weights)
        rows = [
            (*at, _values(value), _values(width))
            for at, value, width in zip(where, average, spread, strict=True)
        ]
        return Predictions((*place, "prediction", "spread"), rows)
    with plugin_code(task.name, ensemble.source, "class_names()"):
        names = task.class_names() or []
    scores = average.shape[-1]
    if names and len(names) != scores:
        raise PluginError(
            task.name,
            ensemble.source,
            f"names {len(names)} classes in class_names(), but its model outputs {scores} "
            "class scores",
            ValueError("class_names() count"),
        )
    labels = names or [str(index) for index in range(scores)]
    rows = []
    for at, probabilities in zip(where, average, strict=True):
        best = probabilities.argmax(axis=-1).reshape(-1)
        chosen = probabilities.reshape(-1, scores)[np.arange(best.size), best]
        label = " ".join(labels[int(index)] for index in best)
        rows.append((*at, label, f"{float(chosen.mean()):.6g}"))
    return Predictions((*place, "prediction", "score"), rows)


def _weighted_std(
    members: list[np.ndarray], average: np.ndarray, weights: Sequence[float]
) -> np.ndarray:
    total = float(sum(weights))
    variance = sum(w / total * (m - average) ** 2 for w, m in zip(weights, members, strict=True))
    spread: np.ndarray = np.sqrt(np.asarray(variance))
    return spread


def _values(values: np.ndarray) -> str:
    return " ".join(f"{float(v):.6g}" for v in np.asarray(values).reshape(-1))


def missing_input(part: str) -> str:
    """Return why input ``part`` cannot be read: it is missing, or no file (/dev/null)."""
    if Path(part).exists():
        return f"input {part!r} is not a regular file or a folder"
    return f"input {part!r} does not exist"
