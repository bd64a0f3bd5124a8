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
    (package / "blobs.yaml").write_text(
        "width: {type: categorical, choices: [8, 32], default: 32}\n"
    )
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
    from test_reliability import CASES

    table = (README.parent / "docs" / "reliability.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.M))
    assert listed == {case for case, *_ in CASES}
