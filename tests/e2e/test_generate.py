"""``ldnn-tune generate``: text sampled from the ensemble of a real character-model study."""

import re
import subprocess
from pathlib import Path

import optuna
import pytest

from ldnn_tune.commands.ensemble import ensemble_use_of
from ldnn_tune.names import ENSEMBLE_USE_ATTR, IDENTITY_ATTR
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main

# a text whose next character always follows from the one before: a trained net repeats it
CYCLE = "the cat sat.\n"


@pytest.fixture(scope="module")
def text_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Tune and ensemble a small LSTM on a repeated line; return its folder and ensemble run."""
    cwd = tmp_path_factory.mktemp("text")
    (cwd / "cycle.txt").write_text(CYCLE * 400)
    result = run_cli(
        cwd,
        "run",
        "task=sequence",
        "problem=text",
        "data_dir=cycle.txt",
        "trials=1",
        "epochs=6",
        "reseeds=0",
        "hidden=64",
        "layers=1",
        "length=16",  # a repeated line repeats its windows in every split: a note, no leak
    )
    assert result.returncode == 0, result.stderr
    hint = re.search(r"generate text with: ldnn-tune generate model=(\w+)", result.stdout)
    assert hint is not None, result.stdout
    return cwd, hint.group(1)


def generate(
    study: tuple[Path, str], capsys: pytest.CaptureFixture[str], *words: str
) -> subprocess.CompletedProcess[str]:
    """Run ``ldnn-tune generate`` on the study's ensemble in this process (imports paid once)."""
    cwd, run = study
    return run_main(
        ["generate", f"model={run}", f"mlflow=sqlite:///{cwd}/mlflow.db", *words], capsys
    )


def test_the_ensemble_continues_the_prompt_as_its_text_goes(
    text_study: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = generate(text_study, capsys, "prompt=the c", "length=40", "temperature=0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("the c" + (CYCLE * 5)[5:45]) + "\n"


def test_a_seed_fixes_the_sample_and_output_writes_it(
    text_study: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    words = ("length=200", "temperature=3")
    first = generate(text_study, capsys, *words, f"output={tmp_path / 'one.txt'}")
    again = generate(text_study, capsys, *words, f"output={tmp_path / 'two.txt'}")
    other = generate(text_study, capsys, *words, "seed=1")
    assert first.returncode == again.returncode == other.returncode == 0, first.stderr
    sample = (tmp_path / "one.txt").read_text()
    assert len(sample) == 200 and set(sample) <= set(CYCLE)
    assert sample == (tmp_path / "two.txt").read_text() == first.stdout.rstrip("\n")
    assert other.stdout != first.stdout  # at temperature 3 the odds are far from certain


def test_predict_on_a_text_ensemble_points_to_generate(
    text_study: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cwd, run = text_study
    (cwd / "some.txt").write_text("the")
    store = f"mlflow=sqlite:///{cwd}/mlflow.db"
    result = run_main(["predict", f"model={run}", f"input={cwd / 'some.txt'}", store], capsys)
    assert_usage_error(
        result,
        f"task 'sequence' reads no input files: this ensemble generates text instead, "
        f"ldnn-tune generate model={run} {store}",
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            ("prompt=THE",),
            "invalid prompt: 'E', 'H', 'T' never occur in the training text; it "
            "holds these 9: '\\n .acehst'",
        ),
        (("length=0",), "invalid length=0: give 1 to 100,000 characters"),
        (("temperature=-1",), "invalid temperature=-1.0: give 0, or 0.01 to 100"),
        (("temperature=1e-320",), "invalid temperature=1e-320: give 0, or 0.01 to 100"),
        (("output=sample.csv",), "invalid output=sample.csv: this command writes .txt files"),
        (("seed=-1",), "invalid seed=-1: give a whole number >= 0"),
    ],
)
def test_bad_words_are_one_line_each(
    text_study: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    words: tuple[str, ...],
    message: str,
) -> None:
    assert_usage_error(generate(text_study, capsys, *words), message)


def test_the_text_trained_on_is_not_written_over(
    text_study: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cwd, _ = text_study
    before = (cwd / "cycle.txt").read_bytes()
    result = generate(text_study, capsys, "length=5", f"output={cwd / 'cycle.txt'}")
    assert_usage_error(result, "is this ensemble's data_dir", "write it elsewhere")
    assert (cwd / "cycle.txt").read_bytes() == before


def test_the_hint_follows_the_problem_the_study_was_made_with(
    text_study: tuple[Path, str],
) -> None:
    cwd, _ = text_study
    study = optuna.load_study(study_name="sequence", storage=f"sqlite:///{cwd}/ldnn_tune.db")
    assert study.user_attrs[ENSEMBLE_USE_ATTR] == "generate"  # recorded by run
    identity = study.user_attrs[IDENTITY_ATTR]
    assert ensemble_use_of(identity) == "generate"  # worked out for a study made before
    adding = {**identity, "options": {"problem": "adding", "train_size": "8", "eval_size": "4"}}
    assert ensemble_use_of({**adding, "data_dir": None}) == ""
    assert ensemble_use_of({"task": "image", "options": {}}) == "predict"
