"""Whose code raised a failed trial's error: ldnn-tune's own, or the task's."""

from collections.abc import Callable

import pytest
import torch

from ldnn_tune.errors import PluginError
from ldnn_tune.study.storages import make_storage
from ldnn_tune.trial.blame import raised_by_host


def caught(action: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as info:
        action()
    return info.value


def a_task_s_bug() -> None:
    raise ValueError("no net of width 8")


def test_an_error_raised_in_the_task_s_package_is_the_task_s() -> None:
    assert not raised_by_host(caught(a_task_s_bug), __name__)


def test_an_error_raised_in_ldnn_tune_s_recording_code_is_the_host_s() -> None:
    error = caught(lambda: make_storage("nope"))  # ldnn_tune.study: records, runs no task code
    assert raised_by_host(error, __name__)
    assert not raised_by_host(error, "ldnn_tune.study.storages")  # were it the task's


def test_an_error_only_torch_saw_is_not_blamed_on_the_host() -> None:
    # a DataLoader worker's error, re-raised by torch: no frame of the task's is left
    error = caught(lambda: torch.zeros(2) @ torch.zeros(3))
    assert not raised_by_host(error, __name__)


def test_a_plugin_error_is_the_task_s_wherever_it_was_raised() -> None:
    error = PluginError("image", "pkg", "failed in model()", ValueError("x"))
    try:
        raise error
    except PluginError as raised:
        assert not raised_by_host(raised, "elsewhere.task")
