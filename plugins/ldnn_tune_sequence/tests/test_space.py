from importlib.resources import files

import pytest
from ldnn_tune_sequence import SequenceOptions, SequenceTask

from ldnn_tune import task_space

CPU_HIDDEN = [32, 64, 128]
GPU_HIDDEN = [32, 64, 128, 256, 512]


@pytest.mark.parametrize(
    ("scale", "name", "hidden"),
    [("cpu", "sequence-cpu.yaml", CPU_HIDDEN), ("gpu", "sequence.yaml", GPU_HIDDEN)],
)
def test_the_scale_picks_its_space_file_from_the_package(
    scale: str, name: str, hidden: list[int]
) -> None:
    task = SequenceTask(SequenceOptions(scale=scale), None, 0)
    assert str(task.search_space()) == str(files("ldnn_tune_sequence") / name)
    space = task_space(task)
    assert list(space["hidden"].distribution.choices) == hidden  # type: ignore[attr-defined]
    assert space["clip_norm"].describe() == "float [5, 15]"  # the article's RNN clipping


def test_scale_auto_follows_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import ldnn_tune_sequence.task as module

    for gpu, scale in ((False, "cpu"), (True, "gpu")):
        monkeypatch.setattr(module, "gpu_available", lambda gpu=gpu: gpu)
        assert SequenceTask(SequenceOptions(), None, 0).options.scale == scale


@pytest.mark.parametrize(
    ("scale", "name", "hidden", "layers"),
    [("cpu", "text-cpu.yaml", 256, 1), ("gpu", "text.yaml", 512, 2)],
)
def test_text_has_its_own_space_whose_first_trial_is_the_measured_recipe(
    scale: str, name: str, hidden: int, layers: int
) -> None:
    task = SequenceTask(SequenceOptions(problem="text", scale=scale), None, 0)
    assert str(task.search_space()) == str(files("ldnn_tune_sequence") / name)
    first = task_space(task).defaults()
    assert (first["hidden"], first["layers"]) == (hidden, layers)
    assert (first["init"], first["lr"], first["clip_norm"]) == ("scaled", 0.5, 5.0)
    assert task.options.length == 64  # the text window at either scale
    assert SequenceTask(SequenceOptions(scale=scale), None, 0).options.length in (50, 100)


@pytest.mark.parametrize(("model", "init"), [("lstm", "scaled"), ("mlp", "lazy")])
def test_sorts_first_trial_starts_from_the_init_measured_for_its_net(model: str, init: str) -> None:
    task = SequenceTask(SequenceOptions(problem="sort", model=model), None, 0)
    space = task_space(task)
    assert space.defaults()["init"] == init
    assert list(space["init"].distribution.choices) == ["lazy", "scaled"]  # type: ignore[attr-defined]
    assert task_space(SequenceTask(SequenceOptions(), None, 0)).defaults()["init"] == "lazy"
