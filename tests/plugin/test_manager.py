import uuid
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest

from ldnn_tune import HParams, Task, hookimpl
from ldnn_tune.errors import PluginError, UsageError
from ldnn_tune.plugin.manager import BLOCK_ENV, Host, get_plugin_manager
from ldnn_tune.testing import BoringOptions, BoringTask


class BoringPlugin:
    @hookimpl
    def ldnn_tune_tasks(self) -> list[type[Task]]:
        return [BoringTask]


class MarkerCallback(pl.Callback):
    pass


class CallbackPlugin:
    @hookimpl
    def ldnn_tune_trial_callbacks(self, task: Task, hp: HParams) -> list[pl.Callback]:
        return [MarkerCallback()]


def test_builtin_image_task_loads_through_its_entry_point() -> None:
    entry = Host(get_plugin_manager()).task("image")
    assert entry.package.startswith("ldnn-tune-image ")
    assert entry.entry_point == "image"


def test_blocked_plugin_is_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "image, other")
    host = Host(get_plugin_manager())
    assert "image" not in host.tasks()
    with pytest.raises(UsageError, match=f"task 'image' is switched off: {BLOCK_ENV}=image, other"):
        host.task("image")


def test_unknown_task_names_the_installed_ones() -> None:
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(),)))
    hint = r"unknown task 'speach' \(did you mean 'speech'\?\); installed: .*boring.*image"
    with pytest.raises(UsageError, match=hint):
        host.task("speach")
    # a name like none installed: likely a plugin of one's own, not yet installed
    with pytest.raises(UsageError, match=r"'ldnn_tune' entry points .* pip install -e FOLDER"):
        host.task("house")


def test_a_task_name_provided_twice_is_an_error_for_that_task_alone() -> None:
    class Again(BoringPlugin):
        pass

    warnings: list[str] = []
    host = Host(get_plugin_manager(extra_plugins=(BoringPlugin(), Again())), warn=warnings.append)
    assert "boring" not in host.tasks() and "image" in host.tasks()
    assert len(warnings) == 1 and "task 'boring' is provided twice" in warnings[0]
    assert warnings[0].endswith("; until then it is not available")
    with pytest.raises(UsageError, match="task 'boring' is provided twice"):
        host.task("boring")
    assert host.task("image").task.name == "image"


def test_one_plugin_listing_a_task_twice() -> None:
    class Twice(BoringPlugin):
        @hookimpl
        def ldnn_tune_tasks(self) -> list[type[Task[Any]]]:
            return [BoringTask, BoringTask]

    class Other(BoringTask):
        pass

    class Two(BoringPlugin):
        @hookimpl
        def ldnn_tune_tasks(self) -> list[type[Task[Any]]]:
            return [BoringTask, Other]

    assert Host(get_plugin_manager(extra_plugins=(Twice(),))).task("boring").task is BoringTask
    host = Host(get_plugin_manager(extra_plugins=(Two(),)), warn=lambda _: None)
    with pytest.raises(UsageError) as error:
        host.task("boring")
    assert str(error.value).endswith(
        "BoringTask and test_one_plugin_listing_a_task_twice.<locals>.Other; "
        "give each task its own name"
    )


def test_trial_callbacks_hook_collects_every_plugins_callbacks(tmp_path: Path) -> None:
    host = Host(get_plugin_manager(extra_plugins=(CallbackPlugin(),)))
    task = BoringTask(BoringOptions(), None, 0)
    callbacks = host.trial_callbacks(task, HParams.for_task(task))
    assert [type(c) for c in callbacks] == [MarkerCallback]


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ldnn_tune]\nbroken = no_such_module_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    warnings: list[str] = []
    host = Host(get_plugin_manager(warn=warnings.append))
    assert "image" in host.tasks()
    assert len(warnings) == 1
    assert "plugin 'broken'" in warnings[0] and "ModuleNotFoundError" in warnings[0]
    with pytest.raises(PluginError) as error:  # asked for by name: why it is missing
        host.task("broken")
    assert str(error.value) == (
        "plugin 'broken' (broken-plugin 1.0) failed to import no_such_module_xyz: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )


def test_a_plugin_is_blocked_by_its_package_name_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "LDNN_Tune_Image")
    assert "image" not in Host(get_plugin_manager()).tasks()


def test_a_block_name_that_matches_no_plugin_is_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BLOCK_ENV, "imagee")
    warnings: list[str] = []
    assert "image" in Host(get_plugin_manager(warn=warnings.append)).tasks()
    assert warnings == [
        f"{BLOCK_ENV} names 'imagee', which no installed plugin is; installed: "
        "image (ldnn-tune-image), sequence (ldnn-tune-sequence), speech (ldnn-tune-speech)"
    ]


def test_the_built_in_tasks_that_read_input_files_for_predict() -> None:
    from ldnn_tune.plugin.task import reads_input_files

    tasks = Host(get_plugin_manager()).tasks()
    readers = {name for name, entry in tasks.items() if reads_input_files(entry.task)}
    assert {"image", "speech"} <= readers and "sequence" not in readers


def fake_package(root: Path, dist: str, entry: str, task: str, hooks: str = "") -> str:
    """Write package ``dist`` into ``root`` (for sys.path): plugin ``entry`` gives ``task``.

    ``hooks`` replaces the plugin's ``ldnn_tune_tasks`` hook; the module's name is returned.
    """
    module = f"{dist.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ldnn_tune]\n{entry} = {module}\n")
    (root / f"{module}.py").write_text(
        "from ldnn_tune import hookimpl\n"
        "from ldnn_tune.testing import BoringTask\n\n"
        f"class Task(BoringTask):\n    name = {task!r}\n\n"
        + (hooks or "@hookimpl\ndef ldnn_tune_tasks():\n    return [Task]\n")
    )
    return module


def test_two_packages_with_one_entry_point_name_are_both_loaded_and_blockable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_package(tmp_path, "dupe-a", "dupe", "dupe")
    fake_package(tmp_path, "dupe-b", "dupe", "dupe")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError) as clash:
        Host(get_plugin_manager()).task("dupe")
    message = str(clash.value)
    assert message.startswith("task 'dupe' is provided twice: by plugin 'dupe' (dupe-")
    assert f"{BLOCK_ENV}=dupe-a or {BLOCK_ENV}=dupe-b" in message
    monkeypatch.setenv(BLOCK_ENV, "dupe-b")
    assert Host(get_plugin_manager()).task("dupe").package == "dupe-a 1.0"


HOOKS = "the hooks are ldnn_tune_tasks(), ldnn_tune_trial_callbacks(task, hp)"


@pytest.mark.parametrize(
    ("hooks", "fault"),
    [
        (
            "@hookimpl\ndef ldnn_tune_task():\n    return [Task]\n",
            "has an unknown hook 'ldnn_tune_task'",
        ),
        (
            "@hookimpl\ndef ldnn_tune_tasks(config):\n    return [Task]\n",
            "has a bad hook: Plugin 'bad' for hook 'ldnn_tune_tasks'; hookimpl definition: "
            "ldnn_tune_tasks(config); Argument(s) {'config'} are declared in the hookimpl but "
            "can not be found in the hookspec",
        ),
        ("x = 1\n", "implements no ldnn-tune hook"),
    ],
)
def test_a_plugin_whose_hooks_are_not_ldnn_tunes_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hooks: str, fault: str
) -> None:
    module = fake_package(tmp_path, "bad-plugin", "bad", "bad", hooks)
    monkeypatch.syspath_prepend(str(tmp_path))
    warnings: list[str] = []
    host = Host(get_plugin_manager(warn=warnings.append))  # pluggy raised here, for every task
    assert "image" in host.tasks()
    assert warnings == [f"plugin 'bad' ({module}) {fault}; {HOOKS}; block it with {BLOCK_ENV}=bad"]
    with pytest.raises(PluginError) as error:
        host.task("bad")
    assert str(error.value) == f"plugin 'bad' (bad-plugin 1.0) in {module} {fault}; {HOOKS}"


class ListsNotATask:
    @hookimpl
    def ldnn_tune_tasks(self) -> Any:
        return BoringTask  # the class itself, not a list of it


class ListsAString:
    @hookimpl
    def ldnn_tune_tasks(self) -> Any:
        return [BoringTask, "oops"]


class BadName(BoringTask):
    name = "Boring-Task"


class ListsABadName:
    @hookimpl
    def ldnn_tune_tasks(self) -> Any:
        return [BadName]


@pytest.mark.parametrize(
    ("plugin", "fault"),
    [
        (ListsNotATask(), "TypeError: must return a list of Task classes, not <class "),
        (ListsAString(), "TypeError: must return a list of Task classes; 'oops' is not one"),
        (ListsABadName(), "TypeError: task name 'Boring-Task' of BadName is not an identifier"),
    ],
)
def test_ldnn_tune_tasks_must_list_task_classes(plugin: object, fault: str) -> None:
    warnings: list[str] = []
    host = Host(get_plugin_manager(extra_plugins=(plugin,)), warn=warnings.append)
    assert "image" in host.tasks() and "boring" not in host.tasks()
    assert len(warnings) == 1
    assert "failed in ldnn_tune_tasks(): " + fault in warnings[0]


class RaisingCallbacks:
    @hookimpl
    def ldnn_tune_trial_callbacks(self, task: Task) -> list[pl.Callback]:
        raise RuntimeError("boom")


class NotACallback:
    @hookimpl
    def ldnn_tune_trial_callbacks(self) -> Any:
        return ["not a callback"]


class OneCallback:
    @hookimpl
    def ldnn_tune_trial_callbacks(self) -> Any:
        return pl.Callback()  # not in a list


@pytest.mark.parametrize(
    ("plugin", "fault"),
    [
        (RaisingCallbacks(), "RuntimeError: boom"),
        (NotACallback(), "TypeError: must return a list of Lightning callbacks; it holds a str"),
        (OneCallback(), "TypeError: must return a list of Lightning callbacks, not a Callback"),
    ],
)
def test_a_trial_callbacks_hook_that_fails_is_its_plugins_fault(plugin: object, fault: str) -> None:
    host = Host(get_plugin_manager(extra_plugins=(plugin, CallbackPlugin())))
    task = BoringTask(BoringOptions(), None, 0)
    with pytest.raises(PluginError) as error:
        host.trial_callbacks(task, HParams.for_task(task))
    message = str(error.value)
    assert message.startswith("plugin '") and "failed in ldnn_tune_trial_callbacks(): " in message
    assert fault in message and "boring" not in message


def test_a_mistake_in_a_tasks_own_search_space_is_its_plugins_fault(tmp_path: Path) -> None:
    from ldnn_tune.config.resolve import resolve_run

    broken = tmp_path / "space.yaml"
    broken.write_text("width: {type: int, low: 64, high: 8, default: 16}\n")

    class BrokenSpaceTask(BoringTask):
        name = "brokenspace"

        def search_space(self) -> Path:
            return broken

    class BrokenSpacePlugin:
        @hookimpl
        def ldnn_tune_tasks(self) -> list[type[Task]]:
            return [BrokenSpaceTask]

    host = Host(get_plugin_manager(extra_plugins=(BrokenSpacePlugin(),)))
    with pytest.raises(PluginError) as error:
        resolve_run(["task=brokenspace"], host, prepare=False)
    assert str(error.value).startswith(
        f"task 'brokenspace' ((local)) has a broken search space: {broken}: knob 'width': low 64"
    )
