"""``ldnn-tune predict`` on bundles of small tasks: files, tables, classes and values."""

import csv
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

import ldnn_tune.commands.predict
from ldnn_tune import HParams, TaskKind, UsageError, hookimpl
from ldnn_tune.ensembles.bundle import load_bundle, write_bundle
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.space.load import task_space
from ldnn_tune.testing import BoringOptions, BoringTask
from ldnn_tune.testing.cli import assert_usage_error, run_main


class Rows(BoringTask):
    """BoringTask that reads CSV tables: one input per row of raw-looking feature values."""

    name = "rows"
    reads_tables = True

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        rows = []
        for path in paths:
            if not path.is_file():
                raise UsageError(f"cannot read {str(path)!r}")
            lines = path.read_text().split()
            if lines[:1] == ["garbage"]:
                raise UsageError(f"cannot read {str(path)!r}: not a table")
            rows += [[float(v) for v in line.split(",")] for line in lines]
        return torch.tensor(rows, dtype=torch.float32).reshape(-1, self.options.features)


class RowsUndeclared(Rows):
    """The reported bug: a reader of many rows per file that does not say so."""

    name = "undeclared"
    reads_tables = False


class Named(Rows):
    name = "named"

    def class_names(self) -> list[str] | None:
        return ["ant", "bee", "cat"]


class TwoNames(Rows):
    name = "twonames"

    def class_names(self) -> list[str] | None:
        return ["ant", "bee"]


class Values(Rows):
    """Regression on the blobs' class index; class_names() says [] (no classes)."""

    name = "values"
    kind = TaskKind.REGRESSION

    def prepare(self) -> None:
        super().prepare()
        s = self.split
        self.split = dataclasses.replace(
            s, y_train=s.y_train.float(), y_val=s.y_val.float(), y_test=s.y_test.float()
        )

    def model(self, hp: HParams) -> Any:
        model = super().model(hp)
        model.net[-1] = torch.nn.Linear(model.net[-1].in_features, 1)
        return model

    def class_names(self) -> list[str] | None:
        return []


class CsvRows(Rows):
    """Rows that names the files it reads: a folder gives only its .csv files."""

    name = "csvrows"
    input_suffixes = (".csv",)


class NoReader(BoringTask):
    """Meant to read tables: read_input() is a typo of read_inputs()."""

    name = "noreader"
    reads_tables = True

    def read_input(self, paths: Sequence[Path]) -> torch.Tensor:
        raise AssertionError("never called")


class Narrow(Rows):
    """The audit's bug: a reader that gives inputs of fewer features than the net takes."""

    name = "narrow"

    def read_inputs(self, paths: Sequence[Path]) -> torch.Tensor:
        return super().read_inputs(paths)[:, :5]


TASKS: list[type[BoringTask]] = [
    Rows,
    Narrow,
    NoReader,
    RowsUndeclared,
    Named,
    TwoNames,
    Values,
    CsvRows,
    BoringTask,  # reads no input files, like the sequence task
]


class Tasks:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[BoringTask]]:
        return TASKS


@pytest.fixture(autouse=True)
def plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        ldnn_tune.commands.predict, "get_plugin_manager", lambda: get_plugin_manager((Tasks(),))
    )
    monkeypatch.chdir(tmp_path)


def bundle(tmp_path: Path, cls: type[BoringTask], members: int = 2) -> Path:
    """Write an ensemble bundle of ``members`` freshly initialised models of ``cls``."""
    task = cls(BoringOptions(), None, 0)
    task.prepare()
    space = task_space(task)
    knobs = space.complete({**space.defaults(), "width": 8, "init": "scaled"})
    folder = tmp_path / f"bundle-{cls.name}"
    files = {}
    for trial in range(members):
        torch.manual_seed(trial)
        files[trial] = tmp_path / f"{cls.name}-{trial}.pt"
        torch.save(task.model(HParams.from_params(knobs)).state_dict(), files[trial])
    identity = {"task": cls.name, "kind": str(task.kind), "seed": 0, "options": {}}
    trials = [{"trial": n, "weight": 1, "knobs": knobs} for n in files]
    write_bundle(folder, {**identity, "data_dir": None}, trials, files)
    return folder


def table(tmp_path: Path, rows: int, name: str = "table.csv") -> Path:
    path = tmp_path / name
    values = torch.randn(rows, BoringOptions().features).tolist()
    path.write_text("\n".join(",".join(f"{v:.3f}" for v in row) for row in values) + "\n")
    return path


def inputs_folder(tmp_path: Path, files: dict[str, int | str]) -> Path:
    """Write folder ``inputs``: a table of N rows for each name given N, else the text given."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name, content in files.items():
        if isinstance(content, int):
            table(inputs, content, name)
        else:
            (inputs / name).write_text(content + "\n")
    return inputs


def predict(
    capsys: pytest.CaptureFixture[str], folder: Path, inputs: str
) -> tuple[Any, list[list[str]]]:
    result = run_main(["predict", f"model={folder}", f"input={inputs}", "output=out.csv"], capsys)
    if result.returncode != 0:
        return result, []
    with open("out.csv", newline="") as handle:
        return result, list(csv.reader(handle))


def test_every_row_of_a_table_is_scored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table(tmp_path, 5, "a.csv")
    table(tmp_path, 2, "b.csv")
    result, rows = predict(capsys, bundle(tmp_path, Rows), "a.csv,b.csv")
    assert result.returncode == 0, result.stderr
    assert rows[0] == ["input", "row", "prediction", "score", "error"]
    assert [r[:2] for r in rows[1:]] == [
        *(["a.csv", str(n)] for n in range(1, 6)),
        *(["b.csv", str(n)] for n in range(1, 3)),
    ]
    assert all(r[2] in {"0", "1", "2"} and 0 < float(r[3]) <= 1 for r in rows[1:])
    # each score is the ensemble's probability to 6 significant digits, not 4 decimals
    ensemble = load_bundle(tmp_path / "bundle-rows", Host(get_plugin_manager((Tasks(),))))
    inputs = ensemble.task.read_inputs([tmp_path / "a.csv", tmp_path / "b.csv"])
    expected = ensemble.predict(inputs).max(axis=-1)
    assert [float(r[3]) for r in rows[1:]] == pytest.approx(expected, rel=1e-5)


def test_a_task_that_reads_no_files_says_which_tasks_predict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, _ = predict(capsys, bundle(tmp_path, BoringTask), str(table(tmp_path, 2)))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: task 'boring' reads no input files, so its ensembles do not predict; "
        "the tasks that do: csvrows, image, named, narrow, rows, speech, twonames, "
        "undeclared, values"
    )


def test_named_classes_label_the_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table(tmp_path, 3)
    result, rows = predict(capsys, bundle(tmp_path, Named), "table.csv")
    assert result.returncode == 0, result.stderr
    assert {r[2] for r in rows[1:]} <= {"ant", "bee", "cat"} and len(rows) == 4


def test_a_reader_of_many_rows_that_does_not_declare_tables_is_the_plugins_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table(tmp_path, 3)
    result, _ = predict(capsys, bundle(tmp_path, RowsUndeclared), "table.csv")
    assert result.returncode == 3
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "error: task 'undeclared' ((local)) returned 3 inputs from read_inputs() for 1 "
        "file(s); one per file is expected (a task whose files hold many inputs each sets "
        "reads_tables = True)"
    )


@pytest.mark.parametrize(
    ("cls", "line"),
    [
        (
            TwoNames,
            "error: task 'twonames' ((local)) names 2 classes in class_names(), but its model "
            "outputs 3 class scores",
        ),
        (  # the reader passes on inputs of fewer features than the net takes
            Narrow,
            "error: task 'narrow' ((local)) failed in the model's forward pass on read_inputs(): "
            "RuntimeError: mat1 and mat2 shapes cannot be multiplied",
        ),
        (  # meant to read tables: read_input() is a typo
            NoReader,
            "error: task 'noreader' ((local)) sets input_suffixes or reads_tables but has no "
            "read_inputs() (misspelt?)",
        ),
    ],
)
def test_a_plugin_s_mistake_met_by_predict_is_the_plugin_s_bug(
    cls: type[BoringTask], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table(tmp_path, 2)
    result, _ = predict(capsys, bundle(tmp_path, cls), "table.csv")
    assert result.returncode == 3, result.stderr
    message = result.stderr.strip()
    assert message.startswith(line) and (cls is Narrow or message == line)  # torch's rest


def test_an_empty_table_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.csv").write_text("")
    result, _ = predict(capsys, bundle(tmp_path, Rows), "empty.csv")
    assert result.returncode == 2
    assert "input 'empty.csv' holds no rows to predict" in result.stderr


def test_regression_gives_values_and_the_members_spread_with_no_class_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table(tmp_path, 4)
    result, rows = predict(capsys, bundle(tmp_path, Values, members=3), "table.csv")
    assert result.returncode == 0, result.stderr
    assert rows[0] == ["input", "row", "prediction", "spread", "error"]
    assert len(rows) == 5
    for _, _, value, spread, error in rows[1:]:
        assert float(spread) > 0 and value != spread and error == ""


def test_one_member_has_no_spread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table(tmp_path, 2)
    result, rows = predict(capsys, bundle(tmp_path, Values, members=1), "table.csv")
    assert result.returncode == 0, result.stderr
    assert [float(r[3]) for r in rows[1:]] == [0.0, 0.0]


def test_a_long_table_prints_the_first_rows_and_writes_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table(tmp_path, 120)
    result, rows = predict(capsys, bundle(tmp_path, Rows), "table.csv")
    assert result.returncode == 0, result.stderr
    assert len(rows) == 121
    assert "(50 of 120 rows shown; all in out.csv)" in result.stdout


def test_a_folder_gives_the_files_the_task_reads_and_says_what_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle(tmp_path, CsvRows)
    files = {"a.CSV": 2, "b.csv": 3, "notes.txt": "not a table", ".b.csv.swp": "an editor's"}
    inputs = inputs_folder(tmp_path, files)
    result, rows = predict(capsys, folder, "inputs")
    assert result.returncode == 0, result.stderr
    assert len(rows) == 1 + 2 + 3
    assert "skipped 1 file(s) the task does not read (not .csv): inputs/notes.txt" in result.stdout
    (inputs / "a.CSV").unlink()
    (inputs / "b.csv").unlink()
    result, _ = predict(capsys, folder, "inputs")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: input 'inputs' holds no files the task reads (.csv)"


def test_a_pattern_names_the_files_it_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle(tmp_path, CsvRows)
    inputs_folder(tmp_path, {"a1.csv": 1, "a2.csv": 2, "b.csv": 4, "a3.csv": "garbage"})
    result, rows = predict(capsys, folder, "inputs/a*.csv")
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in rows[1:]] == ["inputs/a1.csv"] + ["inputs/a2.csv"] * 2 + [
        "inputs/a3.csv"
    ]
    assert "could not be read: cannot read 'inputs/a3.csv'" in result.stdout  # as in a folder
    none, _ = predict(capsys, folder, "inputs/z*.csv,inputs/b.csv")
    assert none.stderr.strip() == "error: input 'inputs/z*.csv' matches no file"


def test_a_file_of_a_folder_that_cannot_be_read_is_left_out_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle(tmp_path, CsvRows)
    inputs = inputs_folder(tmp_path, {"a.csv": 2, "broken.csv": "garbage", "c.csv": 3})
    result, rows = predict(capsys, folder, "inputs")
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in rows[1:]] == ["inputs/a.csv"] * 2 + ["inputs/c.csv"] * 3 + [
        "inputs/broken.csv"
    ]
    assert [row[-1] for row in rows[1:-1]] == [""] * 5  # read: no error
    assert rows[-1] == [
        "inputs/broken.csv",
        "",
        "",
        "",
        "cannot read 'inputs/broken.csv': not a table",
    ]
    assert (
        "note: skipped 1 file(s) that could not be read: cannot read 'inputs/broken.csv': "
        "not a table" in result.stdout
    )
    named, _ = predict(capsys, folder, "inputs/a.csv,inputs/broken.csv")  # named: a mistake
    assert named.stderr.strip() == "error: cannot read 'inputs/broken.csv': not a table"
    (inputs / "a.csv").write_text("garbage\n")
    (inputs / "c.csv").write_text("garbage\n")
    nothing, _ = predict(capsys, folder, "inputs")
    assert nothing.returncode == 2
    assert nothing.stderr.strip() == (
        "error: no input file could be read; the first: cannot read 'inputs/a.csv': not a table"
    )


def test_sub_folders_are_named_in_a_note_and_read_when_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle(tmp_path, CsvRows)
    inputs = inputs_folder(tmp_path, {"a.csv": 2})
    (inputs / "more").mkdir()
    table(inputs / "more", 3, "b.csv")
    result, rows = predict(capsys, folder, "inputs")
    assert result.returncode == 0, result.stderr
    assert len(rows) == 1 + 2
    assert (
        "note: skipped 1 sub-folder(s): inputs/more; a folder's own files are read, "
        "name a sub-folder in input= to read it too" in result.stdout
    )
    both, rows = predict(capsys, folder, "inputs,inputs/more")
    assert both.returncode == 0, both.stderr
    assert [row[0] for row in rows[1:]] == ["inputs/a.csv"] * 2 + ["inputs/more/b.csv"] * 3
    (inputs / "a.csv").unlink()
    only, _ = predict(capsys, folder, "inputs")
    assert only.stderr.strip() == (
        "error: input 'inputs' holds no files the task reads (.csv); its sub-folders are read "
        "when named: input=inputs/more"
    )


def test_a_path_whose_name_holds_a_comma_is_one_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = bundle(tmp_path, CsvRows)
    table(tmp_path, 2, "scan 1,2.csv")
    result, rows = predict(capsys, folder, "scan 1,2.csv")
    assert result.returncode == 0, result.stderr
    assert [row[0] for row in rows[1:]] == ["scan 1,2.csv"] * 2
    table(tmp_path, 3, "other.csv")
    listed, rows = predict(capsys, folder, "other.csv,table.csv")
    assert listed.returncode == 2
    assert listed.stderr.strip() == "error: input 'table.csv' does not exist"


def test_an_ensemble_of_a_task_without_a_text_codec_generates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ldnn_tune.commands.generate

    monkeypatch.setattr(
        ldnn_tune.commands.generate, "get_plugin_manager", lambda: get_plugin_manager((Tasks(),))
    )
    result = run_main(["generate", f"model={bundle(tmp_path, Rows)}"], capsys)
    assert_usage_error(
        result,
        "task 'rows' (as this ensemble was trained) predicts no next character, so its "
        "ensembles generate no text; an ensemble of a character model does",
    )
