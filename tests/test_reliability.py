"""Bad input, every command: one line on stderr, the right exit code, nothing created.

Each row is a case of docs/reliability.md (by its id); test_docs checks that the table
and this list name the same cases, and each case checks the error line the table shows.
"""

import contextlib
import io
import re
import sqlite3
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from ldnn_tune.testing.cli import run_main

Setup = Callable[[Path], None]
STORES = ("ldnn_tune.db", "mlflow.db", "mlruns", "study.log", "foo.log", "out.csv")
TABLE = Path(__file__).parents[1] / "docs" / "reliability.md"


def documented_lines() -> dict[str, str]:
    """Return each case's documented ``error:`` line from the table, where it gives one."""
    row = r"^\| `([a-z0-9-]+)` \| .* \| \d+ \| (error: .*) \|$"
    return dict(re.findall(row, TABLE.read_text(encoding="utf-8"), re.M))


DOCUMENTED = documented_lines()


def nothing(root: Path) -> None:
    """No files needed."""


def write(name: str, text: str | bytes) -> Setup:
    def setup(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return setup


def images(classes: int = 2, per_class: int = 6, extra: Setup = nothing) -> Setup:
    def setup(root: Path) -> None:
        rng = np.random.default_rng(0)
        for label in range(classes):
            folder = root / "imgs" / f"class{label}"
            folder.mkdir(parents=True)
            for index in range(per_class):
                pixels = rng.integers(0, 255, (8, 8), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{index}.png")
        extra(root)

    return setup


def database(name: str, table: str) -> Setup:
    """A SQLite database ``name`` holding one empty ``table``."""

    def setup(root: Path) -> None:
        with contextlib.closing(sqlite3.connect(root / name)) as connection:
            connection.execute(f"create table {table}(x)")
            connection.commit()

    return setup


def bomb_png(root: Path) -> None:
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", 30_000, 30_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    (root / "imgs" / "class1" / "bomb.png").write_bytes(bytes(data))


def waves(broken: bool) -> Setup:
    def setup(root: Path) -> None:
        folder = root / "wavs"
        folder.mkdir()
        for label in ("0", "1"):
            for index in range(5):
                wavfile.write(folder / f"{label}_ann_{index}.wav", 8000, np.zeros(800, np.int16))
        if broken:
            (folder / "1_ann_9.wav").write_bytes(b"RIFF but not a wave")

    return setup


BAD_LR = "lr: {type: float, low: -0.1, high: 1, default: 0.1}\n"
CASES: list[tuple[str, tuple[str, ...], Setup, int, str]] = [
    # the command line itself
    ("no-command", (), nothing, 2, "a command is required: run, tasks, check"),
    ("unknown-command", ("frob",), nothing, 2, "unknown command 'frob'; valid: check,"),
    ("flag-not-word", ("run", "--task", "image"), nothing, 2, "settings are key=value words"),
    ("not-key-value", ("run", "task=image", "trials"), nothing, 2, "expected key=value"),
    ("empty-key", ("run", "=3"), nothing, 2, "expected key=value, got '=3'"),
    ("key-twice", ("run", "task=image", "trials=3", "trials=4"), nothing, 2, "trials given twice"),
    ("tasks-with-words", ("tasks", "x=1"), nothing, 2, "tasks takes no arguments"),
    # run: the task and host settings
    ("no-task", ("run",), nothing, 2, "missing task=NAME; installed: image"),
    ("task-key-case", ("run", "TASK=image"), nothing, 2, "unknown key 'TASK' (did you mean 'task"),
    (
        "unknown-task",
        ("run", "task=speach"),
        nothing,
        2,
        "unknown task 'speach' (did you mean 'speech'?); installed:",
    ),
    ("unknown-key", ("run", "task=image", "trails=3"), nothing, 2, "unknown key 'trails'"),
    ("trials-text", ("run", "task=image", "trials=many"), nothing, 2, "expected an integer"),
    ("trials-negative", ("run", "task=image", "trials=-2"), nothing, 2, "invalid trials=-2"),
    ("trials-zero", ("run", "task=image", "trials=0"), nothing, 2, "invalid trials=0"),
    ("trials-float", ("run", "task=image", "trials=2.5"), nothing, 2, "expected an integer"),
    ("epochs-zero", ("run", "task=image", "epochs=0"), nothing, 2, "invalid epochs=0"),
    ("timeout-text", ("run", "task=image", "timeout=soon"), nothing, 2, "invalid timeout 'soon'"),
    ("timeout-negative", ("run", "task=image", "timeout=-5"), nothing, 2, "invalid timeout '-5'"),
    ("timeout-zero", ("run", "task=image", "timeout=0"), nothing, 2, "invalid timeout '0'"),
    ("timeout-unit", ("run", "task=image", "timeout=10x"), nothing, 2, "invalid timeout '10x'"),
    ("timeout-too-long", ("run", "task=image", "timeout=400d"), nothing, 2, "up to 365d"),
    ("seed-negative", ("run", "task=image", "seed=-1"), nothing, 2, "invalid seed=-1"),
    ("seed-huge", ("run", "task=image", "seed=99999999999"), nothing, 2, "invalid seed="),
    ("sampler", ("run", "task=image", "sampler=grid"), nothing, 2, "invalid sampler 'grid'"),
    ("pruner", ("run", "task=image", "pruner=foo"), nothing, 2, "invalid pruner 'foo'"),
    ("ensemble", ("run", "task=image", "ensemble=vote"), nothing, 2, "invalid ensemble 'vote'"),
    (
        "study-name-long",
        ("run", "task=image", "study=" + "s" * 600),
        nothing,
        2,
        "invalid study: the name is 600 characters long",
    ),
    (
        "study-name-tab",
        ("run", "task=image", "study=a\tb"),
        nothing,
        2,
        "invalid study='a\\tb': a name may not hold tabs",
    ),
    ("n-jobs-zero", ("run", "task=image", "n_jobs=0"), nothing, 2, "invalid n_jobs=0"),
    ("n-jobs-huge", ("run", "task=image", "n_jobs=1000"), nothing, 2, "force_jobs=true"),
    ("heartbeat-zero", ("run", "task=image", "heartbeat=0"), nothing, 2, "invalid heartbeat=0"),
    ("heartbeat-too-long", ("run", "task=image", "heartbeat=100000"), nothing, 2, "at most 86400"),
    (
        "warm-start-no-store",
        ("run", "task=image", "warm_start=imgae"),
        nothing,
        2,
        "invalid warm_start=imgae: storage=sqlite:///ldnn_tune.db: 'ldnn_tune.db' does not exist",
    ),
    ("top-k-zero", ("run", "task=image", "top_k=0"), nothing, 2, "invalid top_k=0"),
    (
        "average-epochs-zero",
        ("run", "task=image", "average_epochs=0"),
        nothing,
        2,
        "invalid average_epochs=0",
    ),
    ("ratio-band", ("run", "task=image", "ratio_low=2", "ratio_high=1"), nothing, 2, "ratio band"),
    ("min-lr-zero", ("run", "task=image", "min_lr=0"), nothing, 2, "invalid min_lr=0"),
    ("min-lr-nan", ("run", "task=image", "min_lr=nan"), nothing, 2, "must be a finite number"),
    (
        "reseeds-unused",
        ("run", "task=image", "reseeds=2", "ensemble=greedy"),
        nothing,
        2,
        "reseeds= retrains the best trial for ensemble=seeds; ensemble=greedy does not use",
    ),
    (
        "min-lr-above-lr",
        ("run", "task=image", "lr=0.05", "min_lr=0.05"),
        nothing,
        2,
        "invalid min_lr=0.05: a trial stops once its LR is divided below it",
    ),
    ("bool-text", ("run", "task=image", "health=maybe"), nothing, 2, "expected true or false"),
    ("max-failures", ("run", "task=image", "max_failures=0"), nothing, 2, "max_failures=0"),
    # run: stores
    ("storage-no-scheme", ("run", "task=image", "storage=nowhere"), nothing, 2, "invalid storage"),
    ("storage-memory", ("run", "task=image", "storage=sqlite:///"), nothing, 2, "is not a file"),
    ("storage-folder", ("run", "task=image", "storage=sqlite:///a/b.db"), nothing, 2, "folder"),
    ("storage-journal-empty", ("run", "task=image", "storage=journal:"), nothing, 2, "file path"),
    (
        "storage-ignored-option",
        ("run", "task=image", "storage=sqlite:///x.db?mode=ro"),
        nothing,
        2,
        "does not take the option 'mode'",
    ),
    (
        "storage-uri-option",  # SQLite would have written to a file named 'x.db?mode=ro'
        ("run", "task=image", "storage=sqlite:///x.db?uri=true&mode=ro"),
        nothing,
        2,
        "does not take the option 'mode'",
    ),
    ("mlflow-line-break", ("run", "task=image", "mlflow=http://h:1\nx"), nothing, 2, "h:1\\nx"),
    (
        "stores-one-file",
        ("run", "task=image", "mlflow=sqlite:///ldnn_tune.db"),
        nothing,
        2,
        "name the same file",
    ),
    ("mlflow-device", ("run", "task=image", "mlflow=sqlite:////dev/null"), nothing, 2, "regular"),
    ("mlflow-proc", ("run", "task=image", "mlflow=sqlite:////proc/m.db"), nothing, 2, "'/proc'"),
    ("mlflow-bad-url", ("run", "task=image", "mlflow=http://h:1 x"), nothing, 2, "nonnumeric"),
    ("mlflow-word", ("run", "task=image", "mlflow=databricks"), nothing, 2, "invalid mlflow"),
    (
        "storage-not-journal",
        ("run", "task=image", "storage=journal:notes.txt"),
        write("notes.txt", "my notes\n"),
        2,
        "is not an Optuna journal",
    ),
    (
        "storage-other-database",
        ("run", "task=image", "storage=sqlite:///mlflow.db"),
        database("mlflow.db", "experiments"),
        2,
        "a database of another kind",
    ),
    ("mlflow-not-database", ("run", "task=image"), write("mlflow.db", "text"), 2, "not a usable"),
    (
        "report-output-store",
        ("report", "study=image", "output=ldnn_tune.db"),
        database("ldnn_tune.db", "version_info"),
        2,
        "holds data this command does not write",
    ),
    (
        "report-output-other-kind",
        ("report", "study=image", "output=r.txt"),
        nothing,
        2,
        "this command writes .html or .md files",
    ),
    (
        "report-output-binary",
        ("report", "study=image", "output=old.html"),
        write("old.html", b"\x89PNG\r\n\x1a\n\x00\x00 an image named .html"),
        2,
        "holds data this command does not write",
    ),
    (
        "predict-output-not-csv",
        ("predict", "model=m", "input=a", "output=bundle.json"),
        nothing,
        2,
        "this command writes .csv files",
    ),
    (
        "storage-redis-down",
        ("run", "task=image", "storage=redis://127.0.0.1:1/0"),
        nothing,
        2,
        "cannot open storage",
    ),
    (
        "storage-pg-down",
        ("run", "task=image", "storage=postgresql://x:pw@127.0.0.1:1/d"),
        nothing,
        2,
        "'postgresql://x:***@127.0.0.1:1/d'",
    ),
    (
        "mlflow-artifacts-file",
        ("run", "task=image"),
        write("mlruns", "a file where MLflow's folder goes"),
        2,
        "the folder where MLflow keeps the runs' files, is a file here",
    ),
    ("mlflow-scheme", ("run", "task=image", "mlflow=bogus://x"), nothing, 2, "invalid mlflow"),
    ("mlflow-file-store", ("run", "task=image", "mlflow=file:///tmp/x"), nothing, 2, "plain file"),
    ("mlflow-path", ("run", "task=image", "mlflow=./mlruns"), nothing, 2, "plain file store"),
    (
        "mlflow-server-down",
        ("run", "task=image", "mlflow=http://127.0.0.1:1"),
        nothing,
        2,
        "cannot reach the MLflow server",
    ),
    (
        "journal-then-bad-mlflow",
        ("run", "task=image", "storage=journal:foo.log", "mlflow=bogus://x"),
        nothing,
        2,
        "invalid mlflow",
    ),
    # run: knobs and space files
    ("knob-text", ("run", "task=image", "lr=abc"), nothing, 2, "invalid value 'abc' for lr"),
    ("knob-infinite", ("run", "task=image", "clip_norm=inf"), nothing, 2, "a finite number"),
    ("knob-outside", ("run", "task=image", "lr=5"), nothing, 2, "outside the search space"),
    ("knob-choice", ("run", "task=image", "init=he"), nothing, 2, "choose from scaled"),
    ("knob-not-choice", ("run", "task=image", "width=7"), nothing, 2, "choose from 16, 32, 64"),
    ("space-missing", ("run", "task=image", "space=nope.yaml"), nothing, 2, "does not exist"),
    ("study-invisible", ("run", "task=image", "study=\u200b"), nothing, 2, "no visible character"),
    ("space-device", ("run", "task=image", "space=/dev/null"), nothing, 2, "not a regular file"),
    (
        "space-malformed",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "lr: [0.1,\n"),
        2,
        "malformed YAML",
    ),
    (
        "space-not-utf8",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", b"lr: \xe9\n"),
        2,
        "is not UTF-8 text",
    ),
    (
        "space-folder",
        ("run", "task=image", "space=d"),
        write("d/x", ""),
        2,
        "is a folder, not a YAML file",
    ),
    (
        "space-unknown-knob",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "widht: {type: int, low: 8, high: 64, default: 16}\n"),
        2,
        "knob 'widht' is not a knob of task 'image'",
    ),
    (
        "space-task-section",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "task: [image]\n"),
        2,
        "'task' must map task names to their knobs",
    ),
    (
        "space-lr-negative",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", BAD_LR),
        2,
        "knob 'lr': low -0.1 is not a number > 0",
    ),
    (
        "space-dropout",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "dropout: {type: float, low: 0, high: 1.5, default: 0}\n"),
        2,
        "knob 'dropout'",
    ),
    (
        "space-batch-zero",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "batch_size: {type: categorical, choices: [0, 8], default: 8}\n"),
        2,
        "knob 'batch_size'",
    ),
    (
        "space-batch-text",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "batch_size: {type: categorical, choices: [big], default: big}\n"),
        2,
        "choice 'big' is not an integer > 0",
    ),
    (
        "space-no-choices",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "init: {type: categorical, choices: [], default: lazy}\n"),
        2,
        "s.yaml: knob 'init': categorical needs a non-empty 'choices' list",
    ),
    (
        "space-step-text",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "lr: {type: float, low: 0.1, high: 1, step: abc, default: 0.1}\n"),
        2,
        "'step' must be a positive number",
    ),
    (
        "space-when-unknown",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "width: {type: int, low: 8, high: 16, default: 8, when: {zz: x}}\n"),
        2,
        "not an earlier categorical knob",
    ),
    (
        "space-unknown-field",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "lr: {type: float, low: 0.1, high: 1, default: 0.1, colour: red}\n"),
        2,
        "unknown field 'colour'",
    ),
    (
        "space-default-not-choice",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "init: {type: categorical, choices: [lazy, scaled], default: xavier}\n"),
        2,
        "default 'xavier' is not one of lazy, scaled",
    ),
    (
        "space-step-uneven",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "dropout: {type: float, low: 0, high: 0.5, step: 0.2, default: 0.2}\n"),
        2,
        "'step' 0.2 does not divide the range [0, 0.5]",
    ),
    (
        "space-default-outside",
        ("run", "task=image", "space=s.yaml"),
        write("s.yaml", "lr: {type: float, low: 0.1, high: 1, default: 3}\n"),
        2,
        "default 3 is outside",
    ),
    # run: data
    ("data-dir-missing", ("run", "task=image", "data_dir=missing"), nothing, 2, "does not exist"),
    (
        "data-dir-file",
        ("run", "task=image", "data_dir=f.txt"),
        write("f.txt", "x"),
        2,
        "is not a folder",
    ),
    ("data-dir-one-class", ("run", "task=image", "data_dir=imgs"), images(classes=1), 2, "found 1"),
    (
        "data-dir-too-few",
        ("run", "task=image", "data_dir=imgs"),
        images(per_class=2),
        2,
        "too few images",
    ),
    (
        "data-dir-broken-image",
        ("run", "task=image", "data_dir=imgs"),
        images(extra=write("imgs/class0/bad.png", "not an image")),
        2,
        "cannot read image",
    ),
    (
        "data-dir-bomb",
        ("run", "task=image", "data_dir=imgs"),
        images(extra=bomb_png),
        2,
        "is too large to decode safely",
    ),
    (
        "data-dir-too-long",
        ("run", "task=image", "data_dir=" + "d/" * 2600),
        nothing,
        2,
        "the value is 5,200 characters long",
    ),
    (
        "data-dir-name-too-long",
        ("run", "task=image", "data_dir=" + "a" * 300),
        nothing,
        2,
        "is too long for this file system",
    ),
    ("image-size", ("run", "task=image", "image_size=2"), nothing, 2, "invalid image_size=2"),
    ("image-color-digits", ("run", "task=image", "color=true"), nothing, 2, "color=True applies"),
    (
        "sequence-problem",
        ("run", "task=sequence", "problem=nope"),
        nothing,
        2,
        "invalid problem 'nope'; choose from adding",
    ),
    (
        "sequence-mlp-adding",
        ("run", "task=sequence", "model=mlp"),
        nothing,
        2,
        "invalid model 'mlp' for problem 'adding'",
    ),
    (
        "sequence-length-huge",
        ("run", "task=sequence", "length=1000000000"),
        nothing,
        2,
        "not enough memory for the sizes given (length=1000000000): lower them",
    ),
    ("sequence-scale", ("run", "task=sequence", "scale=huge"), nothing, 2, "invalid scale"),
    ("sequence-length", ("run", "task=sequence", "length=0"), nothing, 2, "invalid length=0"),
    (
        "sequence-text-no-data",
        ("run", "task=sequence", "problem=text"),
        nothing,
        2,
        "problem=text needs data_dir",
    ),
    (
        "sequence-text-device",
        ("run", "task=sequence", "problem=text", "data_dir=/dev/null"),
        nothing,
        2,
        "is not a regular file",
    ),
    (
        "sequence-text-empty",
        ("run", "task=sequence", "problem=text", "data_dir=e.txt"),
        write("e.txt", ""),
        2,
        "is empty",
    ),
    (
        "sequence-text-latin1",
        ("run", "task=sequence", "problem=text", "data_dir=l.txt"),
        write("l.txt", b"caf\xe9 " * 100),
        2,
        "is not UTF-8 (byte 0xe9 at 3); save it as UTF-8",
    ),
    ("speech-one-word", ("run", "task=speech", "words=yes"), nothing, 2, "invalid words='yes'"),
    ("speech-split", ("run", "task=speech", "split=nope"), nothing, 2, "invalid split='nope'"),
    (
        "speech-fsdd-no-data",
        ("run", "task=speech", "split=fsdd"),
        nothing,
        2,
        "split=fsdd needs data_dir",
    ),
    (
        "speech-synth-no-data",
        ("run", "task=speech", "synth_speakers=5"),
        nothing,
        2,
        "synth_speakers=5 adds espeak-ng speakers to data_dir recordings",
    ),
    (
        "speech-synth-range",
        ("run", "task=speech", "synth_speakers=-1"),
        nothing,
        2,
        "invalid synth_speakers=-1",
    ),
    (
        "speech-broken-wav",
        ("run", "task=speech", "data_dir=wavs"),
        waves(broken=True),
        2,
        "expected a PCM or float WAV file",
    ),
    # the other commands
    ("check-unknown-task", ("check", "task=nope"), nothing, 2, "unknown task 'nope'"),
    (
        "check-run-setting",
        ("check", "task=image", "trials=5"),
        nothing,
        2,
        "trials= is a setting of ldnn-tune run, which check ignores",
    ),
    (
        "space-run-setting",
        ("space", "task=image", "timeout=1m"),
        nothing,
        2,
        "timeout= is a setting of ldnn-tune run, which space ignores",
    ),
    (
        "space-bad-file",
        ("space", "task=image", "space=s.yaml"),
        write("s.yaml", "- 1\n"),
        2,
        "expected a mapping of knob names",
    ),
    (
        "report-output-name-too-long",
        ("report", "study=image", "output=" + "r" * 300 + ".html"),
        nothing,
        2,
        "the file name is longer than the 255 bytes this file system takes",
    ),
    ("ensemble-no-study", ("ensemble",), nothing, 2, "missing study=NAME"),
    ("ensemble-no-storage", ("ensemble", "study=x"), nothing, 2, "'ldnn_tune.db' does not exist"),
    ("ensemble-method", ("ensemble", "study=x", "method=vote"), nothing, 2, "invalid method"),
    ("ensemble-top-k", ("ensemble", "study=x", "top_k=0"), nothing, 2, "invalid top_k=0"),
    (
        "ensemble-trials-top-k",
        ("ensemble", "study=x", "trials=3,7", "top_k=3"),
        nothing,
        2,
        "drop top_k=3",
    ),
    ("predict-no-model", ("predict", "input=a.png"), nothing, 2, "missing model="),
    (
        "predict-no-store",
        ("predict", "model=abc", "input=a.png"),
        nothing,
        2,
        "model 'abc' is no ensemble folder, nor a run of a store here: mlflow=",
    ),
    (
        "predict-output-folder",
        ("predict", "model=m", "input=a", "output=no/x.csv"),
        nothing,
        2,
        "folder 'no' does not exist",
    ),
    ("generate-no-model", ("generate", "prompt=ROMEO:"), nothing, 2, "missing model="),
    (
        "generate-no-store",
        ("generate", "model=abc"),
        nothing,
        2,
        "model 'abc' is no ensemble folder, nor a run of a store here: mlflow=",
    ),
    ("generate-length", ("generate", "model=m", "length=0"), nothing, 2, "invalid length=0"),
    (
        "generate-temperature",
        ("generate", "model=m", "temperature=nan"),
        nothing,
        2,
        "invalid temperature=nan",
    ),
    (
        "generate-output-not-txt",
        ("generate", "model=m", "output=sample.csv"),
        nothing,
        2,
        "this command writes .txt files",
    ),
    ("ui-port", ("ui", "port=99999"), nothing, 2, "invalid port=99999"),
    ("ui-unknown-key", ("ui", "colour=red"), nothing, 2, "unknown key 'colour'"),
    ("ui-scheme", ("ui", "mlflow=bogus://x"), nothing, 2, "invalid mlflow 'bogus://x'"),
    ("ui-server", ("ui", "mlflow=http://x:5000"), nothing, 2, "is a server already"),
    ("ui-no-store", ("ui",), nothing, 2, "'mlflow.db' does not exist"),
]


@pytest.mark.parametrize(
    ("case", "words", "setup", "code", "needle"),
    [pytest.param(case, w, s, c, n, id=case) for case, w, s, c, n in CASES],
)
def test_bad_input_is_one_line_with_its_code_and_creates_nothing(
    case: str,
    words: tuple[str, ...],
    setup: Setup,
    code: int,
    needle: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    before = set(tmp_path.rglob("*"))
    result = run_main(words, capsys)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert needle in lines[0], lines[0]
    if case in DOCUMENTED:  # the table shows the line a user sees, word for word
        assert lines[0] == DOCUMENTED[case]
    assert "Traceback" not in result.stdout + result.stderr
    created = {p.relative_to(tmp_path) for p in set(tmp_path.rglob("*")) - before}
    assert not {str(p) for p in created} & set(STORES), created
