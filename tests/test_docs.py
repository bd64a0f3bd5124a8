"""README.md stays true: its plugin example runs, and every hook is documented."""

import importlib
import inspect
import math
import re
import sys
from pathlib import Path

import pytest

from ldnn_tune.console.quiet import quiet_frameworks
from ldnn_tune.plugin import spec as hookspecs
from ldnn_tune.plugin.manager import Host, get_plugin_manager
from ldnn_tune.recipe.hparams import HParams
from ldnn_tune.trial.training import train_trial

README = Path(__file__).parents[1] / "README.md"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_plugin_example_registers_and_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = next(block for block in code_blocks("python") if "class BlobTask" in block)
    package = tmp_path / "my_task"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(source)
    space = next(block for block in code_blocks("yaml") if "blobs.yaml" in block)
    (package / "blobs.yaml").write_text(space)  # README's own
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("my_task.plugin")
    try:
        host = Host(get_plugin_manager(extra_plugins=(module,)))
        task = host.task("blobs").task(host.task("blobs").task.options_type(), None, 0)
        task.prepare()
        quiet_frameworks()
        outcome = train_trial(
            task, HParams.for_task(task, width=8), seed=0, max_epochs=1, min_lr=1e-9
        )
        assert math.isfinite(outcome.best_val_loss)
    finally:
        sys.modules.pop("my_task.plugin", None)
        sys.modules.pop("my_task", None)


def test_readme_entry_point_snippet_uses_the_hook_group() -> None:
    toml = next(block for block in code_blocks("toml") if "entry-points" in block)
    assert f"[project.entry-points.{hookspecs.PROJECT}]" in toml


@pytest.mark.parametrize("name", [n for n in dir(hookspecs) if n.startswith("ldnn_tune_")])
def test_every_hook_is_documented_with_its_signature(name: str) -> None:
    hook = getattr(hookspecs, name)
    parameters = ", ".join(inspect.signature(hook).parameters)
    assert f"`{name}({parameters})`" in README.read_text()
    assert hook.__doc__ and ":return:" in hook.__doc__


def test_the_reliability_table_lists_every_bad_input_case() -> None:
    from test_reliability import CASES, TABLE

    table = TABLE.read_text()
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.M))
    assert listed == {case for case, *_ in CASES}


PLUGINS_DOC = README.parent / "docs" / "plugins.md"


def task_members() -> list[str]:
    """Return the public methods and attributes defined on ldnn_tune's Task class."""
    from ldnn_tune.plugin.task import Task

    names = set(vars(Task)) | set(Task.__annotations__) | {"__init__"}
    return sorted(n for n in names if not n.startswith("_") or n == "__init__")


def documented_form(member: str) -> str:
    """Return how docs/plugins.md must name ``member``: a method with its parameters."""
    from ldnn_tune.plugin.task import Task

    value = getattr(Task, member, None)
    if not callable(value) or isinstance(value, type):
        return f"`{member}`"
    parameters = [p for p in inspect.signature(value).parameters if p != "self"]
    return f"`{member}({', '.join(parameters)})`"


@pytest.mark.parametrize("member", task_members())
def test_plugins_doc_covers_every_task_member(member: str) -> None:
    assert documented_form(member) in PLUGINS_DOC.read_text()


@pytest.mark.parametrize("name", [n for n in dir(hookspecs) if n.startswith("ldnn_tune_")])
def test_plugins_doc_covers_every_hook_with_its_signature(name: str) -> None:
    parameters = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"`{name}({parameters})`" in PLUGINS_DOC.read_text()


def test_plugins_doc_lists_every_run_setting() -> None:
    from ldnn_tune.config.settings import RunConfig
    from ldnn_tune.config.words import field_names

    table = PLUGINS_DOC.read_text()
    missing = [key for key in field_names(RunConfig) if f"| `{key}` |" not in table]
    assert not missing, f"docs/plugins.md's settings table lacks {missing}"


def test_plugins_doc_lists_every_space_field() -> None:
    from ldnn_tune.space.load import _SPEC_KEYS

    table = PLUGINS_DOC.read_text()
    missing = sorted(key for key in _SPEC_KEYS if f"| `{key}` |" not in table)
    assert not missing, f"docs/plugins.md's space-field table lacks {missing}"


def test_plugins_doc_names_the_public_api_it_teaches() -> None:
    import ldnn_tune

    text = PLUGINS_DOC.read_text()
    missing = [name for name in ldnn_tune.__all__ if f"`{name}" not in text]
    assert not missing, f"docs/plugins.md does not mention {missing}"
