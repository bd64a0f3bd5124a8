"""Speech plugin: synthesiser, cache, WAV layouts, resampling, splits, augmentation."""

from pathlib import Path

import numpy as np
import pytest
import torch
from ldnn_tune_speech import SpeechOptions, SpeechTask
from ldnn_tune_speech.audio import fit_length, read_wav, resample
from ldnn_tune_speech.augment import SNR_SPAN_DB, WaveAugment, change_speed
from ldnn_tune_speech.cache import cached
from ldnn_tune_speech.clips import ClipSet
from ldnn_tune_speech.features import LogMel, MelConfig, band_statistics, warp_frequencies
from ldnn_tune_speech.folders import load_recordings
from scipy.io import wavfile

from ldnn_tune import HParams, UsageError
from ldnn_tune.config.words import build_typed
from ldnn_tune.space.load import task_space

# the shared data folder sits beside the repository (../shared from its root)
FSDD = Path(__file__).resolve().parents[4] / "shared" / "data" / "fsdd" / "recordings"


def espeak_available() -> bool:
    try:
        import espeakng_loader  # noqa: F401
    except ImportError:
        return False
    return True


requires_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeakng-loader (the plugin's [espeak] extra) not installed"
)


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, (samples * 32767).astype(np.int16))


def options(**changes: object) -> SpeechOptions:
    base: dict[str, object] = {"clip_seconds": 0.5, "n_mels": 16}
    base.update(changes)
    return SpeechOptions(**base)  # type: ignore[arg-type]


# --- synthesiser and cache -------------------------------------------------------------


@requires_espeak
def test_synthesiser_is_deterministic_and_voices_differ() -> None:
    from ldnn_tune_speech.synth import make_speakers, synthesise

    speakers = make_speakers(3, seed=0)
    assert make_speakers(3, seed=0) == speakers
    assert len({s.voice for s in speakers}) == 3
    first = synthesise(("yes", "no"), speakers, 1, seed=0, rate=8000, length=4000)
    again = synthesise(("yes", "no"), speakers, 1, seed=0, rate=8000, length=4000)
    np.testing.assert_array_equal(first.waves, again.waves)
    assert first.waves.shape == (6, 4000)
    assert np.abs(first.waves).max() > 0.5
    by_speaker = first.waves[first.labels == 0]  # "yes" from each of the 3 speakers
    assert not np.allclose(by_speaker[0], by_speaker[1])
    assert not np.allclose(by_speaker[1], by_speaker[2])


@requires_espeak
def test_synthesised_set_is_cached_and_speakers_do_not_cross_splits(tmp_path: Path) -> None:
    opts = options(words="yes,no", speakers=10, takes=1, cache_dir=tmp_path)
    task = SpeechTask(opts, None, seed=3)
    task.prepare()
    (cache_file,) = tmp_path.glob("*.npz")
    stamp = cache_file.stat().st_mtime_ns
    again = SpeechTask(opts, None, seed=3)
    again.prepare()
    assert cache_file.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(task.split.x_test.numpy(), again.split.x_test.numpy())
    groups = [set(task.clips.speakers[part]) for part in task.parts]
    assert not groups[0] & groups[1] and not groups[0] & groups[2] and not groups[1] & groups[2]
    assert "speakers kept apart" in task.describe_data()


@pytest.mark.parametrize("damage", [b"PK\x03\x04 cut short", b"", b"not a zip"])
def test_a_cache_file_that_cannot_be_read_is_built_again(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "keywords-0.npz"
    path.write_bytes(damage)
    built = ClipSet(
        np.zeros((2, 8), np.float32), np.array([0, 1]), ["yes", "no"], np.array(["a", "b"]),
        np.array([0, 1]), "synthesised",
    )  # fmt: skip
    clips = cached(path, lambda: built)
    np.testing.assert_array_equal(clips.labels, built.labels)
    assert cached(path, lambda: pytest.fail("the repaired file is read, not built")).classes == [
        "yes",
        "no",
    ]


def test_split_fsdd_without_training_takes_says_so(tmp_path: Path) -> None:
    make_fsdd(tmp_path, ("jackson", "nicolas"), takes=10)
    with pytest.raises(UsageError, match=r"trains on takes 10 and up, .* takes 0-9 only"):
        SpeechTask(options(split="fsdd"), tmp_path, seed=0).prepare()


def test_split_fsdd_without_data_dir_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="split=fsdd needs data_dir"):
        SpeechTask(options(split="fsdd"), None, 0).prepare()


def test_options_parse_from_words_and_reject_bad_values() -> None:
    opts = build_typed(SpeechOptions, {"takes": "2", "split": "fsdd", "cache_dir": "/tmp/x"})
    assert opts.takes == 2 and opts.split == "fsdd" and opts.cache_dir == Path("/tmp/x")
    with pytest.raises(UsageError, match="invalid split='nope'"):
        build_typed(SpeechOptions, {"split": "nope"})
    with pytest.raises(UsageError, match="invalid words"):
        build_typed(SpeechOptions, {"words": "yes"})


# --- audio helpers ---------------------------------------------------------------------


def test_resample_keeps_the_pitch_and_changes_the_length() -> None:
    out = resample(tone(440.0, 16000, 1.0), 16000, 8000)
    assert len(out) == 8000
    peak_hz = np.argmax(np.abs(np.fft.rfft(out))) * 8000 / len(out)
    assert abs(peak_hz - 440.0) <= 2
    assert len(resample(tone(440.0, 11025, 1.0), 11025, 8000)) == 8000


def test_fit_length_centres_by_padding_or_cutting() -> None:
    padded = fit_length(np.ones(4, dtype=np.float32), 8)
    np.testing.assert_array_equal(padded, [0, 0, 1, 1, 1, 1, 0, 0])
    cut = fit_length(np.ones(10, dtype=np.float32), 4)  # equally loud: the middle
    np.testing.assert_array_equal(cut, [1, 1, 1, 1])
    assert len(fit_length(np.zeros(10, dtype=np.float32), 4)) == 4


def test_a_long_recording_keeps_its_loudest_stretch_where_the_word_is() -> None:
    said_early = np.zeros(40, dtype=np.float32)
    said_early[2:8] = [0.1, 0.5, 0.9, 0.8, 0.4, 0.1]  # a word, then silence to the end
    np.testing.assert_array_equal(fit_length(said_early, 6), said_early[2:8])
    assert not said_early[17:23].any()  # its middle, kept before, holds none of the word


def test_read_wav_handles_formats_and_stereo(tmp_path: Path) -> None:
    wavfile.write(tmp_path / "u8.wav", 8000, np.array([0, 128, 255], dtype=np.uint8))
    samples, rate = read_wav(tmp_path / "u8.wav")
    assert rate == 8000 and samples.dtype == np.float32
    np.testing.assert_allclose(samples, [-1.0, 0.0, 127 / 128])
    stereo = np.stack([np.full(5, 0.5), np.full(5, -0.5)], axis=1).astype(np.float32)
    wavfile.write(tmp_path / "st.wav", 22050, stereo)
    samples, rate = read_wav(tmp_path / "st.wav")
    assert rate == 22050 and samples.shape == (5,)
    np.testing.assert_allclose(samples, 0.0)


@pytest.mark.parametrize(
    ("rate", "samples", "message"),
    [
        (0, np.zeros(100, np.int16), "its sample rate 0 Hz is outside 1,000-768,000 Hz"),
        (2_000_000_011, np.zeros(100, np.int16), "its sample rate 2000000011 Hz is outside"),
        (8000, np.full(100, np.nan, np.float32), "it holds NaN or infinite samples"),
    ],
)
def test_a_wav_of_impossible_rate_or_values_is_a_usage_error_naming_it(
    tmp_path: Path, rate: int, samples: np.ndarray, message: str
) -> None:
    wavfile.write(tmp_path / "odd.wav", rate, samples)
    with pytest.raises(UsageError, match=f"cannot use '.*odd.wav': {message}"):
        read_wav(tmp_path / "odd.wav")


# --- folder layouts --------------------------------------------------------------------


def test_speech_commands_layout_resamples_and_pads(tmp_path: Path) -> None:
    for label, freq in (("yes", 300.0), ("no", 900.0)):
        for speaker in ("aa11", "bb22", "cc33", "dd44", "ee55"):
            write_wav(tmp_path / label / f"{speaker}_nohash_0.wav", tone(freq, 16000, 0.3), 16000)
    write_wav(tmp_path / "_background_noise_" / "white.wav", tone(50.0, 16000, 2.0), 16000)
    (tmp_path / "yes" / "._aa11_nohash_0.wav").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    write_wav(tmp_path / ".trash" / "aa11_nohash_1.wav", tone(50.0, 16000, 0.3), 16000)
    clips = load_recordings(tmp_path, rate=8000, length=4000)
    assert clips.classes == ["no", "yes"]
    assert clips.waves.shape == (10, 4000)
    assert set(clips.speakers) == {"aa11", "bb22", "cc33", "dd44", "ee55"}
    assert clips.waves[:, :500].any() == np.False_  # 0.3 s centred in 0.5 s: silent edges
    assert np.abs(clips.waves).max() == pytest.approx(0.9, abs=1e-3)
    task = SpeechTask(options(), tmp_path, seed=0)
    task.prepare()
    assert "speakers kept apart (3/1/1" in task.describe_data()


def make_fsdd(root: Path, speakers: tuple[str, ...], takes: int) -> None:
    for digit, freq in ((0, 300.0), (1, 900.0)):
        for speaker in speakers:
            for index in range(takes):
                write_wav(root / f"{digit}_{speaker}_{index}.wav", tone(freq, 8000, 0.4), 8000)


def test_fsdd_layout_and_official_split(tmp_path: Path) -> None:
    make_fsdd(tmp_path, ("jackson", "nicolas"), takes=12)
    task = SpeechTask(options(split="fsdd"), tmp_path, seed=0)
    task.prepare()
    train, val, test = task.parts
    assert (len(train), len(val), len(test)) == (8, 20, 20)
    assert set(task.clips.indices[test]) == {0, 1, 2, 3, 4}
    assert set(task.clips.indices[val]) == {5, 6, 7, 8, 9}
    assert task.clips.classes == ["0", "1"]
    speaker_task = SpeechTask(options(), tmp_path, seed=0)
    speaker_task.prepare()
    assert "random split (2 speakers; keeping speakers apart needs 3)" in (
        speaker_task.describe_data()
    )


@requires_espeak
def test_synth_speakers_add_spoken_class_names_to_training_only(tmp_path: Path) -> None:
    make_fsdd(tmp_path / "rec", ("jackson", "nicolas", "theo"), takes=2)
    plain = SpeechTask(options(cache_dir=tmp_path / "cache"), tmp_path / "rec", seed=0)
    plain.prepare()
    opts = options(cache_dir=tmp_path / "cache", synth_speakers=3, takes=2)
    task = SpeechTask(opts, tmp_path / "rec", seed=0)
    task.prepare()
    extra = 3 * 2 * 2  # speakers x classes ("0", "1": espeak says zero, one) x takes
    assert len(task.split.y_train) == len(plain.split.y_train) + extra
    # by speaker, then class name, then take: the labels follow the class names' order
    assert task.split.y_train[-extra:].tolist() == [0, 0, 1, 1] * 3
    assert task.split.x_train.shape[1] == plain.split.x_train.shape[1]
    torch.testing.assert_close(task.split.x_val, plain.split.x_val)
    torch.testing.assert_close(task.split.x_test, plain.split.x_test)
    assert "adds 3 espeak-ng speakers (12 clips" in task.describe_data()


@requires_espeak
def test_synth_share_keeps_the_first_speakers_and_is_searched_only_with_synth_speakers(
    tmp_path: Path,
) -> None:
    make_fsdd(tmp_path / "rec", ("jackson", "nicolas", "theo"), takes=2)
    cache = tmp_path / "cache"
    task = SpeechTask(options(cache_dir=cache, synth_speakers=3, takes=2), tmp_path / "rec", 0)
    task.prepare()
    one = SpeechTask(options(cache_dir=cache, synth_speakers=1, takes=2), tmp_path / "rec", 0)
    one.prepare()
    recorded = len(task.parts[0])  # training recordings, before the synthetic clips
    per_speaker = 2 * 2  # classes x takes
    space = task_space(task)
    assert space["synth_share"].distribution.single()  # fixed at 1 unless space= widens it
    assert "synth_share" not in task_space(SpeechTask(options(), tmp_path / "rec", 0)).names
    shares = {0.0: 0, 0.2: 1, 0.5: 2, 1.0: 3}  # share -> round(share * 3) speakers kept
    for share, kept in shares.items():
        hp = HParams.from_params(space.complete({"synth_share": share}))
        module = task.datamodule(hp)
        assert len(module.split.y_train) == recorded + kept * per_speaker, share
        torch.testing.assert_close(module.split.x_val, task.split.x_val)
        # every share trains on as many clips an epoch as the whole pool holds
        drawn = sum(len(y) for _, y in module.train_dataloader())
        assert drawn == recorded + 3 * per_speaker, share
    # the first of three speakers is the speaker synth_speakers=1 makes
    kept_one = task.trial_split(1 / 3)
    torch.testing.assert_close(kept_one.x_train, one.split.x_train)
    # every share is standardised with the statistics of the whole pool
    pool_mean, _ = band_statistics(task.split.x_train, task.mel, utterance_norm=False)
    torch.testing.assert_close(task.statistics(False)[0], pool_mean)


def test_synth_speakers_need_recordings_espeak_and_a_valid_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="synth_speakers=2 adds espeak-ng speakers"):
        SpeechTask(options(synth_speakers=2), None, 0).prepare()
    with pytest.raises(UsageError, match="invalid synth_speakers=-1"):
        build_typed(SpeechOptions, {"synth_speakers": "-1"})
    make_fsdd(tmp_path, ("jackson", "nicolas", "theo"), takes=2)
    monkeypatch.setattr("ldnn_tune_speech.espeak.espeak_installed", lambda: False)
    with pytest.raises(UsageError, match=r"needs espeak-ng: .* or set synth_speakers=0"):
        SpeechTask(options(synth_speakers=2), tmp_path, 0).prepare()


@pytest.mark.skipif(not FSDD.is_dir(), reason=f"real FSDD recordings not found at {FSDD}")
def test_reads_real_fsdd_recordings(tmp_path: Path) -> None:
    for digit in (3, 7):
        for speaker in ("george", "jackson", "lucas"):
            for index in (0, 5, 10):
                name = f"{digit}_{speaker}_{index}.wav"
                (tmp_path / name).symlink_to(FSDD / name)
    task = SpeechTask(options(split="fsdd", sample_rate=16000), tmp_path, seed=0)
    task.prepare()
    assert task.clips.waves.shape == (18, 8000)  # 8 kHz files resampled to 16 kHz, 0.5 s
    assert task.clips.classes == ["3", "7"]
    assert [len(p) for p in task.parts] == [6, 6, 6]
    for mean, std in (task.statistics(False), task.statistics(True)):
        assert torch.isfinite(mean).all() and (std > 0).all()


# --- bad data_dir ----------------------------------------------------------------------


def bad_dirs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    no_wavs = tmp_path / "no_wavs"
    (no_wavs / "yes").mkdir(parents=True)
    (no_wavs / "yes" / "notes.txt").write_text("not audio")
    one_class = tmp_path / "one_class"
    for i in range(3):
        write_wav(one_class / "yes" / f"s{i}_nohash_0.wav", tone(300.0, 8000, 0.2), 8000)
    unreadable = tmp_path / "unreadable"
    make_fsdd(unreadable, ("ann", "bob"), takes=5)
    (unreadable / "1_bob_9.wav").write_bytes(b"RIFF not really a wave")
    header_cut = tmp_path / "header_cut"
    make_fsdd(header_cut, ("ann", "bob"), takes=5)
    cut = header_cut / "1_bob_4.wav"
    cut.write_bytes(cut.read_bytes()[:30])  # inside the format chunk
    loose = tmp_path / "loose"
    nested = tmp_path / "nested"
    for root in (loose, nested):
        for i in range(3):
            write_wav(root / "yes" / f"s{i}_nohash_0.wav", tone(300.0, 8000, 0.2), 8000)
    write_wav(loose / "no_s0_0.wav", tone(900.0, 8000, 0.2), 8000)
    write_wav(nested / "no" / "deep" / "s0_nohash_0.wav", tone(900.0, 8000, 0.2), 8000)
    return {
        "missing": (tmp_path / "missing", "is not a folder"),
        "empty": (empty, "holds no WAV files"),
        "no_wavs": (no_wavs, "holds no WAV files"),
        "one_class": (one_class, "holds one class"),
        "unreadable": (unreadable / "1_bob_9.wav", "expected a PCM or float WAV file"),
        "header_cut": (cut, "expected a PCM or float WAV file"),
        "loose": (loose, "has class sub-folders and 1 WAV file(s) beside them (no_s0_0.wav"),
        "nested": (nested / "no", "holds no WAV files of its own (sub-folders are not read)"),
    }


def test_bad_data_dirs_give_one_line_usage_errors(tmp_path: Path) -> None:
    for case, (path, expected) in bad_dirs(tmp_path).items():
        root = path.parent if case in ("unreadable", "header_cut", "nested") else path
        with pytest.raises(UsageError) as info:
            SpeechTask(options(), root, seed=0).prepare()
        message = str(info.value)
        assert expected in message and str(path) in message and "\n" not in message, case


def test_files_left_out_or_cut_short_are_named_in_the_data_line(tmp_path: Path) -> None:
    for label, freq in (("yes", 300.0), ("no", 900.0)):
        for speaker in ("aa11", "bb22", "cc33", "dd44", "ee55"):
            write_wav(tmp_path / label / f"{speaker}_nohash_0.wav", tone(freq, 8000, 0.3), 8000)
    (tmp_path / "notes.txt").write_text("where these came from")
    (tmp_path / "yes" / "photo.png").write_bytes(b"\x89PNG")
    cut = tmp_path / "no" / "ee55_nohash_0.wav"
    cut.write_bytes(cut.read_bytes()[:1000])  # the data chunk ends before its stated size
    task = SpeechTask(options(), tmp_path, seed=0)
    task.prepare()
    line = task.describe_data()
    assert len(task.clips) == 10  # every recording is used, the cut one too
    assert "2 file(s) skipped, not recordings: notes.txt, yes/photo.png" in line
    assert "1 file(s) end before their WAV header says, read as far as they go: no/ee55" in line


def test_every_unreadable_recording_is_named_in_one_line(tmp_path: Path) -> None:
    make_fsdd(tmp_path, ("aa", "bb", "cc"), takes=3)
    for name in ("0_aa_8.wav", "1_cc_9.wav"):
        (tmp_path / name).write_text("a text file named .wav")
    with pytest.raises(UsageError) as info:
        SpeechTask(options(), tmp_path, seed=0).prepare()
    assert str(info.value) == (
        f"2 of 20 recordings cannot be read: cannot read '{tmp_path}/0_aa_8.wav': expected a "
        f"PCM or float WAV file; cannot read '{tmp_path}/1_cc_9.wav': expected a PCM or float "
        "WAV file"
    )


def test_long_and_silent_recordings_are_named_in_the_data_line(tmp_path: Path) -> None:
    make_fsdd(tmp_path, ("aa", "bb", "cc"), takes=3)
    write_wav(tmp_path / "0_aa_7.wav", np.zeros(8000, dtype=np.float32), 8000)
    long = np.zeros(8000 * 3, dtype=np.float32)
    long[:3200] = tone(300.0, 8000, 0.4)  # the word at the start, silence after it
    write_wav(tmp_path / "1_bb_8.wav", long, 16000)  # 1.5 s at its rate
    task = SpeechTask(options(clip_seconds=1.0), tmp_path, seed=0)
    task.prepare()
    line = task.describe_data()
    assert "1 file(s) longer than clip_seconds, only their loudest 1 s kept: 1_bb_8.wav" in line
    assert "1 file(s) silent (no sample above -80 dBFS), trained on as they are: 0_aa_7.wav" in (
        line
    )
    make_fsdd(tmp_path / "plain", ("aa", "bb", "cc"), takes=3)
    plain = SpeechTask(options(clip_seconds=1.0), tmp_path / "plain", seed=0)
    plain.prepare()
    assert "clip_seconds" not in plain.describe_data()
    assert "dBFS" not in plain.describe_data()


@pytest.mark.parametrize(
    ("word", "needle"),
    [
        (
            "words=yes,no",
            "words='yes,no' applies to the synthesised keywords, not to data_dir's "
            "recordings (their classes are its folders or file names); drop words",
        ),
        ("speakers=5", "speakers=5 applies to the synthesised keywords"),
        (
            "takes=5",
            "takes=5 applies to the synthesised keywords, not to data_dir's recordings "
            "(their classes are its folders or file names); drop takes, or add synth_speakers=N",
        ),
    ],
)
def test_options_of_the_synthesised_set_are_refused_with_a_data_dir(
    tmp_path: Path, word: str, needle: str
) -> None:
    make_fsdd(tmp_path, ("aa", "bb", "cc"), takes=3)
    key, value = word.split("=")
    typed = value if key == "words" else int(value)
    with pytest.raises(UsageError) as info:
        SpeechTask(options(**{key: typed}), tmp_path, seed=0).prepare()
    assert needle in str(info.value)


def test_a_cache_folder_that_cannot_be_made_is_one_line_before_building(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("a file, not a folder")
    with pytest.raises(UsageError, match=r"cannot keep synthesised speech in '.*afile': "):
        cached(tmp_path / "afile" / "keywords-0.npz", lambda: pytest.fail("built in vain"))


def test_unlabelled_top_level_wavs_are_a_usage_error(tmp_path: Path) -> None:
    write_wav(tmp_path / "recording.wav", tone(300.0, 8000, 0.2), 8000)
    with pytest.raises(UsageError, match=r"\{label\}_\{speaker\}_\{index\}\.wav"):
        SpeechTask(options(), tmp_path, seed=0).prepare()


def test_an_fsdd_label_is_the_name_s_first_word(tmp_path: Path) -> None:
    # turn_on_george_0.wav: label turn, speaker on_george (FSDD's rule); the data line
    # names the classes, so a label cut short shows there
    for label in ("turn_on", "stop"):
        for speaker in ("george", "theo", "lucas"):
            write_wav(tmp_path / f"{label}_{speaker}_0.wav", tone(300.0, 8000, 0.2), 8000)
    task = SpeechTask(options(), tmp_path, seed=0)
    task.prepare()
    assert task.clips.classes == ["stop", "turn"]
    assert ", 2 classes (stop, turn), " in task.describe_data()


def test_a_class_folder_without_wavs_says_what_it_holds(tmp_path: Path) -> None:
    make_fsdd(tmp_path / "one", ("george",), takes=3)
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "2_george_0.mp3").write_bytes(b"ID3")
    with pytest.raises(UsageError, match=r"only 1 file\(s\) of other kinds \(\.mp3\); convert"):
        SpeechTask(options(), tmp_path, seed=0).prepare()
    (tmp_path / "two" / "2_george_0.mp3").unlink()
    with pytest.raises(UsageError, match=r"class folder '.*two' is empty; put its recordings"):
        SpeechTask(options(), tmp_path, seed=0).prepare()


def test_an_fsdd_folder_given_one_level_up_names_the_folder_to_give(tmp_path: Path) -> None:
    make_fsdd(tmp_path / "recordings", ("george", "theo"), takes=2)
    with pytest.raises(UsageError) as info:
        SpeechTask(options(), tmp_path, seed=0).prepare()
    assert str(info.value).endswith(
        "its files are named {label}_{speaker}_{index}.wav: "
        f"give data_dir={tmp_path / 'recordings'}"
    )


def test_too_many_mel_bands_for_the_sample_rate_is_one_line_before_the_data() -> None:
    with pytest.raises(UsageError) as info:
        SpeechTask(options(sample_rate=4000, n_mels=128), None, seed=0).prepare()
    assert str(info.value).startswith(
        "invalid n_mels=128 at sample_rate=4000: 15 of its mel bands would hold no bin of "
        "the 128-point FFT; use n_mels="
    )


def test_words_differing_only_in_case_are_one_spoken_word() -> None:
    with pytest.raises(ValueError, match="need 2 or more distinct words"):
        options(words="yes,Yes")


def test_a_word_of_punctuation_alone_is_refused() -> None:
    with pytest.raises(ValueError, match="';;' has no letter or digit to speak"):
        options(words="yes,;;,no")


def test_the_data_line_names_the_classes(tmp_path: Path) -> None:
    make_fsdd(tmp_path, ("jackson", "nicolas", "theo"), takes=4)
    task = SpeechTask(options(), tmp_path, seed=0)
    task.prepare()
    assert ", 2 classes (0, 1), " in task.describe_data()


# --- augmentation and features -----------------------------------------------------------


def test_wave_augment_adds_noise_in_the_snr_range() -> None:
    torch.manual_seed(0)
    waves = torch.from_numpy(np.stack([tone(440.0, 8000, 0.5)] * 64))
    noisy = WaveAugment(snr_low_db=10.0, max_shift=0)(waves)
    noise = noisy - waves
    snr = 10 * torch.log10(waves.pow(2).mean(1) / noise.pow(2).mean(1))
    assert snr.min() >= 10.0 - 0.1 and snr.max() <= 10.0 + SNR_SPAN_DB + 0.1
    assert snr.max() - snr.min() > 5.0


def test_time_shift_moves_without_wrapping() -> None:
    torch.manual_seed(0)
    waves = torch.zeros(32, 100)
    waves[:, 50] = 1.0
    moved = WaveAugment(snr_low_db=200.0, max_shift=10)(waves)
    peaks = moved.argmax(dim=1)
    assert ((peaks >= 40) & (peaks <= 60)).all() and len(set(peaks.tolist())) > 3


def test_speed_change_stretches_about_the_centre_within_its_range() -> None:
    torch.manual_seed(0)
    waves = torch.zeros(64, 1001)
    waves[:, 600] = 1.0  # 100 samples after the centre
    faster_or_slower = change_speed(waves, 0.2)
    offsets = faster_or_slower.argmax(dim=1) - 500
    assert offsets.min() >= 100 / 1.2 - 1 and offsets.max() <= 100 / 0.8 + 1
    assert offsets.unique().numel() > 10
    assert torch.equal(change_speed(waves, 0.0), waves)


def test_frequency_warp_moves_the_spectrum_within_its_range_only_in_training() -> None:
    torch.manual_seed(0)
    power = torch.zeros(64, 65, 3)
    power[:, 20] = 1.0  # one spectral peak (a formant), the same in every frame
    warped = warp_frequencies(power, 0.1)
    peaks = warped[:, :, 0].argmax(dim=1)
    assert peaks.min() >= 20 * 0.9 - 1 and peaks.max() <= 20 * 1.1 + 1
    assert peaks.unique().numel() > 2
    assert torch.equal(warped[:, :, 0], warped[:, :, 2])  # the same stretch in every frame
    assert torch.equal(warp_frequencies(power, 0.0), power)
    flat = warp_frequencies(torch.ones(64, 65, 3), 0.2)
    torch.testing.assert_close(flat, torch.ones_like(flat))  # no band is left empty
    mel = MelConfig(sample_rate=8000, n_mels=16)
    frontend = LogMel(mel, freq_warp=0.2)
    waves = torch.from_numpy(tone(440.0, 8000, 0.5)).expand(8, -1)
    frontend.eval()
    clean = frontend(waves)
    frontend.train()
    assert not torch.allclose(frontend(waves), clean)


def test_utterance_norm_removes_gain_and_ignores_padding() -> None:
    mel = MelConfig(sample_rate=8000, n_mels=16)
    word = torch.from_numpy(tone(440.0, 8000, 0.25)) * torch.hann_window(2000)
    padded = torch.zeros(2, 8000)
    padded[0, 8 * mel.hop : 8 * mel.hop + 2000] = word
    padded[1, 32 * mel.hop : 32 * mel.hop + 2000] = 0.3 * word  # quieter, later in the clip
    plain, centred = LogMel(mel), LogMel(mel, utterance_norm=True)
    speech, later = slice(10, 21), slice(34, 45)
    first, second = centred(padded)[:, 0]
    # the 10 dB gain moves raw log-mels by ln(0.09) = -2.4; the log floor leaves a little
    assert (first[:, speech] - second[:, later]).abs().max() < 0.3
    loud, quiet = plain(padded)[:, 0]
    assert (loud[:, speech] - quiet[:, later]).abs().max() > 2.0


def test_utterance_norm_centres_a_noisy_clip_on_its_speech_frames() -> None:
    torch.manual_seed(0)
    mel = MelConfig(sample_rate=8000, n_mels=16)
    word = torch.from_numpy(tone(440.0, 8000, 0.4)) * torch.hann_window(3200)
    clean = torch.zeros(1, 8000)
    clean[0, 8 * mel.hop : 8 * mel.hop + 3200] = word
    noisy = WaveAugment(snr_low_db=5.0, max_shift=0)(clean)  # noise fills the padding too
    centred = LogMel(mel, utterance_norm=True)
    speech = slice(14, 28)  # the middle of the word
    # the same frames set each clip's mean: with and without the noise the word matches
    # in its loud (440 Hz) bands, instead of moving by the level of the noise frames
    difference = (centred(clean) - centred(noisy))[0, 0, :, speech]
    loud_bands = centred.log_mel(clean)[0, :, speech].mean(dim=1) > 0
    assert loud_bands.any()
    assert difference[loud_bands].abs().max() < 0.5


def wave_task(tmp_path: Path) -> SpeechTask:
    make_fsdd(tmp_path, ("ann", "bob", "cy", "dee", "eve"), takes=2)
    task = SpeechTask(options(), tmp_path, seed=0)
    task.prepare()
    return task


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")
def test_noise_is_added_in_training_but_not_in_evaluation(tmp_path: Path) -> None:
    task = wave_task(tmp_path)
    params = task_space(task, None).defaults()
    params.update(width=8, depth=2, dropout=0.0, shift_ms=0.0, time_mask=0, freq_mask=0)
    model = task.model(HParams.from_params(task_space(task).complete(params)))
    batch = (task.split.x_train, task.split.y_train)
    model.eval()
    clean_eval = model.loss(model(batch[0]), batch[1])
    assert torch.equal(model.validation_step(batch, 0), clean_eval)
    assert torch.equal(model.test_step(batch, 0), clean_eval)
    model.train()
    torch.manual_seed(0)
    clean_train = model.loss(model(batch[0]), batch[1])
    noisy_train = model.training_step(batch, 0)
    assert not torch.allclose(noisy_train, clean_train)


def test_spectrogram_masking_only_in_training(tmp_path: Path) -> None:
    task = wave_task(tmp_path)
    params = task_space(task, None).defaults()
    params.update(width=8, depth=2, time_mask=20, freq_mask=10)
    frontend = task.model(HParams.from_params(task_space(task).complete(params))).net.frontend
    waves = task.split.x_train
    frontend.eval()
    clean = frontend(waves)
    assert torch.equal(clean, frontend(waves))
    assert clean.shape == (len(waves), 1, 16, 4000 // 128 + 1)
    frontend.train()
    torch.manual_seed(1)
    masked = frontend(waves)
    assert (masked == 0).sum() > (clean == 0).sum()
    changed = masked != clean
    assert torch.equal(masked[changed], torch.zeros_like(masked[changed]))


def test_a_model_saved_before_the_augmentation_knobs_still_builds(tmp_path: Path) -> None:
    task = wave_task(tmp_path)
    knobs = task_space(task).complete(task_space(task, None).defaults())
    for knob in ("speed", "utterance_norm", "freq_warp", "mixup"):
        del knobs[knob]  # an ensemble bundle from before the knobs
    model = task.model(HParams.from_params(knobs))
    assert model.augment.speed == 0.0 and not model.net.frontend.utterance_norm
    assert model.net.frontend.freq_warp == 0.0 and model.mixup == 0.0


def test_the_warp_and_mixup_knobs_reach_the_model(tmp_path: Path) -> None:
    task = wave_task(tmp_path)
    params = task_space(task, None).defaults()
    params.update(freq_warp=0.15, mixup=0.3)
    model = task.model(HParams.from_params(task_space(task).complete(params)))
    assert model.net.frontend.freq_warp == 0.15 and model.mixup == 0.3


def test_read_inputs_prepares_wavs_like_training_clips(tmp_path: Path) -> None:
    task = wave_task(tmp_path / "data")
    write_wav(tmp_path / "new.wav", tone(300.0, 16000, 0.2), 16000)
    inputs = task.read_inputs([tmp_path / "new.wav"])
    assert inputs.shape == (1, 4000) and inputs.dtype == torch.float32
    assert task.class_names() == ["0", "1"]
    with pytest.raises(UsageError, match=r"missing\.wav"):
        task.read_inputs([tmp_path / "missing.wav"])
    write_wav(tmp_path / "silent.wav", np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(UsageError, match=r"silent\.wav': it is silent \(no sample above -80"):
        task.read_inputs([tmp_path / "silent.wav"])
