from pathlib import Path

import numpy as np
import pytest
import torch
from ldnn_tune_sequence import SequenceOptions, SequenceTask, problems
from ldnn_tune_sequence.module import sequence_accuracy, solved_fraction
from ldnn_tune_sequence.text import load_corpus

from ldnn_tune import HParams, UsageError
from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.testing.cli import assert_usage_error, run_cli, run_main
from ldnn_tune.trial.callbacks import EpochEndHook
from ldnn_tune.trial.training import train_trial

SMALL = {"train_size": 64, "eval_size": 32}


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def prepared(**options: object) -> SequenceTask:
    task = SequenceTask(SequenceOptions(**{**SMALL, **options}), None, 0)  # type: ignore[arg-type]
    task.prepare()
    return task


def lstm_of(task: SequenceTask, hp: HParams) -> torch.nn.LSTM:
    lstm = task.model(hp).net.lstm
    assert isinstance(lstm, torch.nn.LSTM)
    return lstm


def fit_one_epoch(task: SequenceTask, hp: HParams) -> dict[str, float]:
    quiet_frameworks()
    metrics: dict[str, float] = {}
    hook = EpochEndHook(lambda epoch, values: metrics.update(values))
    train_trial(task, hp, seed=0, max_epochs=1, min_lr=1e-12, callbacks=[hook])
    return metrics


# --- generators against brute-force references -------------------------------------


def test_adding_targets_are_the_sum_of_the_two_marked_values() -> None:
    x, y = problems.adding(50, 9, rng())
    assert x.shape == (50, 9, 2) and y.shape == (50, 1)
    for row in range(50):
        marked = [t for t in range(9) if x[row, t, 1] == 1.0]
        assert len(marked) == 2 and marked[0] < 4 <= marked[1]
        assert y[row, 0].item() == pytest.approx(sum(x[row, t, 0].item() for t in marked))


def test_adding_mean_baseline_mse_is_a_sixth() -> None:
    _, y = problems.adding(40_000, 20, rng())
    assert float(((y - y.mean()) ** 2).mean()) == pytest.approx(1 / 6, abs=0.005)


def test_copy_targets_are_the_symbols_before_the_gap() -> None:
    x, y = problems.copy(20, copy_len=3, gap=5, symbols=4, rng=rng())
    assert x.shape == (20, 11, 6) and y.shape == (20, 3)
    for row in range(20):
        codes = [int(x[row, t].argmax()) for t in range(11)]
        assert all(1 <= c <= 4 for c in codes[:3])
        assert codes[3:7] == [0, 0, 0, 0] and codes[7] == 5 and codes[8:] == [0, 0, 0]
        assert [c - 1 for c in codes[:3]] == y[row].tolist()


def test_parity_targets_count_the_set_bits() -> None:
    x, y = problems.parity(100, 7, rng())
    assert x.shape == (100, 7, 1)
    for row in range(100):
        ones = sum(1 for t in range(7) if x[row, t, 0] > 0)
        assert y[row, 0].item() == ones % 2
    assert 0.3 < float(y.float().mean()) < 0.7


def test_sort_targets_are_the_sorted_numbers() -> None:
    x, y = problems.sort(30, count=5, bits=4, rng=rng())
    assert x.shape == (30, 5, 4) and y.shape == (30, 5)
    for row in range(30):
        numbers = [int("".join("1" if b > 0 else "0" for b in x[row, i]), 2) for i in range(5)]
        assert sorted(numbers) == y[row].tolist()


def test_lstm_sort_inputs_get_a_flagged_write_phase() -> None:
    task = prepared(problem="sort", sort_count=4, sort_bits=3)
    x = task.data.split.x_train if task.data else None
    assert x is not None and x.shape == (64, 8, 4)
    assert (x[:, :4, -1] == 0).all() and (x[:, 4:, -1] == 1).all() and (x[:, 4:, :3] == 0).all()


def test_splits_are_drawn_separately_and_seeded() -> None:
    a, b = prepared().data, prepared().data
    assert a is not None and b is not None
    torch.testing.assert_close(a.split.x_val, b.split.x_val)
    assert not torch.equal(a.split.x_val, a.split.x_test)
    assert not torch.equal(a.split.x_train[:32], a.split.x_val)


# --- text --------------------------------------------------------------------------


def test_text_windows_follow_the_file(tmp_path: Path) -> None:
    text = "".join(chr(ord("a") + i % 26) + ("\n" if i % 7 == 0 else "") for i in range(900))
    path = tmp_path / "input.txt"
    path.write_text(text, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=10), tmp_path, 0)
    task.prepare()
    assert task.data is not None
    vocab = sorted(set(text))
    decode = "".join
    x, y = task.data.split.x_train, task.data.split.y_train
    for row in range(len(x)):
        assert decode(vocab[i] for i in x[row]) == text[row * 10 : row * 10 + 10]
        assert decode(vocab[i] for i in y[row]) == text[row * 10 + 1 : row * 10 + 11]
    val_start = int(len(text) * 0.9)
    assert decode(vocab[i] for i in task.data.split.x_val[0]) == text[val_start : val_start + 10]


def test_text_chars_limits_what_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("abcdefgh" * 10, encoding="utf-8")
    corpus = load_corpus(path, 12)
    assert len(corpus.ids) == 12 and corpus.vocab == list("abcdefgh")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("abc", "too few"),
        ("a" * 5000, "holds one distinct character \\('a'\\): there is nothing to predict"),
        (
            "".join(chr(0x4E00 + i % 1500) for i in range(6000)),
            "holds 1,500 distinct characters; a character model takes at most 1,000",
        ),
    ],
)
def test_bad_text_files_are_usage_errors(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "t.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text"), path, 0)
    with pytest.raises(UsageError, match=words):
        task.prepare()


def test_too_little_text_says_how_much_is_needed_and_what_text_chars_cut(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("abcdefgh" * 100, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=10, text_chars=150), path, 0)
    with pytest.raises(UsageError) as info:
        task.prepare()
    assert str(info.value) == (
        f"text file '{path}' has 150 characters (text_chars=150 of them read), too few for "
        "windows of length=10 in each of train/val/test (5% each for val/test): give at least "
        "220, or a smaller length"
    )
    enough = SequenceTask(SequenceOptions(problem="text", length=10, text_chars=220), path, 0)
    enough.prepare()


def test_a_byte_order_mark_is_not_text_and_other_encodings_are_named(tmp_path: Path) -> None:
    text = "abcdefgh" * 100
    (tmp_path / "bom.txt").write_text(text, encoding="utf-8-sig")
    assert load_corpus(tmp_path / "bom.txt", 0).vocab == list("abcdefgh")
    (tmp_path / "latin.txt").write_text("caf\u00e9 " * 50, encoding="latin-1")
    with pytest.raises(UsageError) as info:
        load_corpus(tmp_path / "latin.txt", 0)
    assert str(info.value) == (
        f"text file '{tmp_path}/latin.txt' is not UTF-8 (byte 0xe9 at 3); save it as UTF-8"
    )


def test_a_folder_s_text_file_is_found_whatever_the_case_of_its_suffix(tmp_path: Path) -> None:
    (tmp_path / "INPUT.TXT").write_text("abcdefgh" * 100, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=10), tmp_path, 0)
    task.prepare()
    assert task.class_names() == list("abcdefgh")  # the data check names characters


def test_text_without_data_dir_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs data_dir"):
        SequenceTask(SequenceOptions(problem="text"), None, 0).prepare()


# --- options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"problem": "nope"}, "'nope'; choose from adding, copy, parity, sort, text"),
        ({"length": 0}, "length=0"),
        ({"length": 1}, "invalid length=1: must be at least 2"),
        ({"train_size": 1}, "invalid train_size=1: must be at least 2"),
        ({"model": "mlp"}, "mlp works for parity, sort"),
        ({"model": "gru"}, "'gru'; choose from lstm, mlp"),
        ({"bits": 5}, "invalid bits=5 for problem=adding: only problem=parity reads it"),
        ({"problem": "text", "sort_bits": 3}, "invalid sort_bits=3 for problem=text: only probl"),
        (
            {"problem": "parity", "length": 20},
            "invalid length=20 for problem=parity: only problem=adding, copy, text read it",
        ),
        (
            {"problem": "text", "train_size": 10},
            "invalid train_size=10 for problem=text: only problem=adding, copy, parity, sort",
        ),
    ],
)
def test_bad_options_name_the_value_and_choices(options: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        SequenceOptions(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("problem", "unread"),
    [
        ("adding", {"bits", "copy_len", "symbols", "sort_count", "sort_bits", "text_chars"}),
        ("parity", {"copy_len", "symbols", "sort_count", "sort_bits", "text_chars", "length"}),
    ],
)
def test_the_options_another_problem_reads_are_unread(problem: str, unread: set[str]) -> None:
    task = SequenceTask(SequenceOptions(problem=problem, scale="cpu"), None, seed=0)
    assert task.unread_options() == unread


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"problem": "parity", "bits": 5}, "invalid bits=5 for problem=parity with train_size=64"),
        ({"problem": "sort", "sort_bits": 1, "sort_count": 2}, "invalid sort_bits=1"),
        ({"problem": "copy", "copy_len": 1, "symbols": 2}, "invalid copy_len=1"),
    ],
)
def test_a_problem_too_small_to_hold_out_unseen_sequences_is_a_usage_error(
    options: dict[str, object], words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        prepared(**options)


def test_a_problem_large_enough_keeps_its_held_out_draws_unseen() -> None:
    data = prepared(problem="parity", bits=8).data  # 256 inputs, 64 training draws
    assert data is not None
    split = data.split
    seen = {row.numpy().tobytes() for row in split.x_train}
    assert all(row.numpy().tobytes() not in seen for row in split.x_val)
    assert len(split.y_val) >= SMALL["eval_size"] / 2


def test_cli_rejects_an_unknown_problem_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", "task=sequence", "problem=nope", timeout=120)
    assert_usage_error(result, "nope", "adding")
    assert not (tmp_path / "ldnn_tune.db").exists()


def test_cli_main_rejects_an_empty_text_file_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    result = run_main(["run", "task=sequence", "problem=text", "data_dir=empty.txt"], capsys)
    assert_usage_error(result, "empty")
    assert not (tmp_path / "ldnn_tune.db").exists()


# --- model: forget bias, clipping, metrics ----------------------------------------


def test_forget_bias_sets_the_f_slice_of_both_biases() -> None:
    task = prepared(length=6)
    lstm = lstm_of(task, HParams.for_task(task, hidden=8, layers=2, forget_bias=3.5))
    for layer in range(2):
        ih = getattr(lstm, f"bias_ih_l{layer}").detach()
        hh = getattr(lstm, f"bias_hh_l{layer}").detach()
        total = ih + hh
        torch.testing.assert_close(total[8:16], torch.full((8,), 3.5))
        assert (total[:8] == 0).all() and (total[16:] == 0).all()


def test_lstm_weights_follow_the_init_knob() -> None:
    task = prepared(length=6)
    hp = HParams.for_task(task, hidden=256, init="scaled", init_scale=0.5)
    lstm = lstm_of(task, hp)
    assert lstm.all_weights[0][1].std().item() == pytest.approx(0.5 / 256**0.5, rel=0.1)
    lazy = lstm_of(task, HParams.for_task(task, hidden=256, init="lazy"))
    assert lazy.all_weights[0][1].std().item() == pytest.approx(0.02, rel=0.1)


def test_tiny_clip_norm_clips_every_step_and_logs_it() -> None:
    task = prepared(length=6)
    tiny = fit_one_epoch(task, HParams.for_task(task, clip_norm=1e-6, batch_size=16, hidden=16))
    assert tiny["clip_fraction"] == 1.0 and tiny["grad_norm"] > 1e-6
    assert 0.0 <= tiny["val_solved"] <= 1.0
    huge = fit_one_epoch(task, HParams.for_task(task, clip_norm=1e9, batch_size=16, hidden=16))
    assert huge["clip_fraction"] == 0.0


def test_copy_trains_and_logs_whole_sequence_accuracy() -> None:
    task = prepared(problem="copy", length=4, copy_len=4, symbols=4)
    metrics = fit_one_epoch(task, HParams.for_task(task, batch_size=16, hidden=16))
    assert {"val_loss", "val_acc", "val_seq_acc"} <= metrics.keys()
    assert metrics["val_seq_acc"] <= metrics["val_acc"]


def test_text_trains_and_reports_nats_per_char(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("to be or not to be, that is the question\n" * 30, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=16), path, 0)
    task.prepare()
    outcome = train_trial(task, HParams.for_task(task, hidden=16), 0, 1, 1e-12)
    vocab = len(set("to be or not to be, that is the question\n"))
    assert outcome.predictions["val_predictions"].shape[1:] == (16, vocab)
    assert outcome.val_scores["loss"] == pytest.approx(outcome.best_val_loss, abs=1e-3)


def test_metrics_count_solved_and_whole_sequences() -> None:
    out = torch.tensor([[1.0], [1.05], [0.5]])
    target = torch.tensor([[1.03], [1.0], [0.49]])
    assert solved_fraction(out, target).item() == pytest.approx(2 / 3)
    scores = torch.tensor([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    assert sequence_accuracy(scores, torch.tensor([[1, 0], [1, 0]])).item() == 0.5


def test_a_character_common_in_one_part_of_a_text_does_not_fail_the_data_check(
    tmp_path: Path,
) -> None:
    from ldnn_tune import HParams, run_checks

    path = tmp_path / "readme.txt"
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefgh"), size=5)) for _ in range(1200)]
    table = "".join(f"| {w} |\n" for w in words[:200])  # pipes early on, in a table
    path.write_text(table + " ".join(words[200:]), encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=16), path, 0)
    task.prepare()
    data = next(r for r in run_checks(task, HParams.for_task(task), quick_only=True))
    assert data.passed, data.detail
    assert "classes in every split" not in data.detail


def test_each_problem_scores_what_the_article_measures() -> None:
    from ldnn_tune_sequence.scores import problem_scores

    sums = np.array([1.0, 0.5, 0.2, 1.9])
    outputs = sums + np.array([0.01, -0.03, 0.05, 0.2])  # two within 0.04
    assert problem_scores("adding", outputs[:, None], sums) == {"solved": 0.5}
    targets = np.array([[0, 1, 2], [2, 1, 0]])
    probs = np.eye(3)[[[0, 1, 2], [2, 0, 0]]]  # the second sequence has one wrong position
    assert problem_scores("sort", probs, targets) == {"seq_acc": 0.5}
    text = problem_scores("text", np.full((1, 4, 2), 0.5), np.array([[0, 1, 1, 0]]))
    assert text == {"nats_per_char": pytest.approx(np.log(2))}
    assert problem_scores("parity", np.eye(2)[[0, 1]], np.array([0, 1])) == {}


def test_a_run_reports_the_share_of_sums_solved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna

    from ldnn_tune.testing.cli import run_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")  # the summary's columns unwrapped
    words = ["task=sequence", "trials=1", "epochs=1", "length=10", "train_size=200"]
    words += ["eval_size=50", "reseeds=0", "ensemble=none", "check=false"]
    result = run_main(["run", *words], capsys)
    assert result.returncode == 0, result.stderr
    assert "test_solved" in result.stdout
    study = optuna.load_study(study_name="sequence", storage="sqlite:///ldnn_tune.db")
    attrs = study.trials[0].user_attrs
    assert 0.0 <= attrs["val_solved"] <= 1.0 and 0.0 <= attrs["test_solved"] <= 1.0


def test_the_data_line_says_which_sizes_were_given_and_which_the_scale_filled_in() -> None:
    def sized(**options: object) -> str:
        task = SequenceTask(SequenceOptions(scale="cpu", **options), None, 0)  # type: ignore[arg-type]
        task.prepare()
        return task.describe_data().split("sequences, ")[1]

    assert sized(train_size=40, eval_size=20) == (
        "train_size=40, eval_size=20 as given, the rest cpu-sized (scale=gpu for the gpu's sizes)"
    )
    assert sized(length=8, train_size=40, eval_size=20) == (
        "sizes as given, the search space cpu-sized (scale=gpu for the gpu's)"
    )


def test_a_window_longer_than_any_shape_is_too_long_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("abcdefgh" * 100, encoding="utf-8")
    task = SequenceTask(SequenceOptions(problem="text", length=10**23), path, 0)
    with pytest.raises(UsageError, match=r"too few for windows of length=10{23} in each"):
        task.prepare()


def test_copy_symbols_have_a_ceiling() -> None:
    with pytest.raises(ValueError, match="invalid symbols=100000: must be at most 1,000"):
        SequenceOptions(problem="copy", symbols=100_000)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig", "utf-8"])
def test_utf16_with_its_mark_reads_as_utf8_does_and_line_ends_read_as_newlines(
    tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "t.txt"
    text = "héllo\r\nwörld\rend\n"
    mark = "\ufeff" if encoding == "utf-16-be" else ""  # utf-16 writes its own mark
    path.write_bytes((mark + text).encode(encoding))
    corpus = load_corpus(path, 0)
    decoded = "".join(corpus.vocab[i] for i in corpus.ids.tolist())
    assert decoded == "héllo\nwörld\nend\n"


def test_a_broken_utf16_text_says_what_its_mark_promised(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("hello".encode("utf-16") + b"\x00\xd8")  # a lone surrogate at the end
    with pytest.raises(UsageError, match=r"is not UTF-16, as its mark says, \(byte 0x"):
        load_corpus(path, 0)


def test_only_the_text_problem_generates_text_and_its_window_is_the_context(
    tmp_path: Path,
) -> None:
    (tmp_path / "t.txt").write_text("ab ba\n" * 200)
    text = SequenceTask(SequenceOptions(problem="text", length=10), tmp_path / "t.txt", 0)
    text.prepare()
    codec = text.text_codec()
    assert codec is not None
    assert codec.characters == ("\n", " ", "a", "b") and codec.context == 10
    adding = SequenceTask(SequenceOptions(train_size=8, eval_size=4, length=5), None, 0)
    adding.prepare()
    assert adding.text_codec() is None


def test_a_text_that_repeats_itself_passes_the_data_check(tmp_path: Path) -> None:
    # a chorus sung again in the validation part is the text's, not a leak (audit: short
    # windows of tinyshakespeare failed the check and stopped the study)
    from ldnn_tune.health.checks import check_data

    (tmp_path / "song.txt").write_text("la la la, here we go again.\n" * 300)
    task = SequenceTask(SequenceOptions(problem="text", length=14), tmp_path / "song.txt", 0)
    task.prepare()
    result = check_data(task, HParams.for_task(task))
    assert result.passed, result.detail
    assert "samples repeat train's (the data repeats itself)" in result.detail
