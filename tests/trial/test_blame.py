"""Whose code raised a failed trial's error: ldnn-tune's own, or the task's."""

import pytest

from ldnn_tune.errors import PluginError, first_line
from ldnn_tune.recipe.data import Standardizer
from ldnn_tune.trial.blame import raised_by_host


def caught(action: object) -> BaseException:
    with pytest.raises(Exception) as info:
        action()  # type: ignore[operator]
    return info.value


def a_task_s_bug() -> None:
    raise ValueError("no net of width 8")


def test_an_error_raised_in_the_task_s_own_file_is_the_task_s() -> None:
    assert not raised_by_host(caught(a_task_s_bug), __file__)


def test_an_error_raised_in_ldnn_tune_s_own_code_is_the_host_s() -> None:
    error = caught(lambda: first_line(ValueError("x"), limit="x"))  # type: ignore[arg-type]
    assert raised_by_host(error, __file__)
    assert not raised_by_host(error, first_line.__code__.co_filename)  # were it the task's


def test_an_error_in_what_plugins_build_on_is_the_task_s() -> None:
    # the recipe's classes fail on what the task handed them
    error = caught(lambda: Standardizer.fit("not a tensor"))  # type: ignore[arg-type]
    assert not raised_by_host(error, "/elsewhere/plugin/task.py")


def test_a_plugin_error_is_the_task_s_wherever_it_was_raised() -> None:
    error = PluginError("image", "pkg", "failed in model()", ValueError("x"))
    try:
        raise error
    except PluginError as raised:
        assert not raised_by_host(raised, "/elsewhere/plugin/task.py")
