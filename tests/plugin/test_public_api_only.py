"""Task plugins use ldnn-tune's public API only: ``from ldnn_tune import ...``.

The built-in plugins and the plugin ``ldnn-tune new-task`` writes load the way any
third-party package does, so their code may not reach into ldnn-tune's modules
(``ldnn_tune.space.load``, ``ldnn_tune.trial.device``, ...): a refactor of the host must not
break a plugin that only uses what ``ldnn_tune`` exports.
"""

import ast
from pathlib import Path

import pytest

import ldnn_tune
from ldnn_tune.scaffold.names import KINDS, PluginNames
from ldnn_tune.scaffold.render import render

ROOT = Path(__file__).parents[2]
PLUGIN_SOURCES = sorted(ROOT.glob("plugins/*/src/**/*.py"))


def private_uses(text: str) -> list[tuple[int, str]]:
    """Return (line, what) for each use of ldnn-tune beyond ``from ldnn_tune import ...``.

    Caught: ``from ldnn_tune.x import y``, ``import ldnn_tune.x``, ``ldnn_tune.x`` where x is
    not a public name, and ``importlib.import_module("ldnn_tune.x")``.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").startswith("ldnn_tune."):
                found.append((node.lineno, f"from {node.module} import ..."))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"import {alias.name}")
                for alias in node.names
                if alias.name.startswith("ldnn_tune.")
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "ldnn_tune" and node.attr not in ldnn_tune.__all__:
                found.append((node.lineno, f"ldnn_tune.{node.attr}"))
        elif isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            first = node.args[0]
            if (
                name == "import_module"
                and isinstance(first, ast.Constant)
                and str(first.value).startswith("ldnn_tune.")
            ):
                found.append((node.lineno, f"import_module({first.value!r})"))
    return found


def report(uses: list[tuple[str, int, str]]) -> str:
    lines = [f"{where}:{line}: {what}" for where, line, what in uses]
    return "private ldnn_tune imports (use `from ldnn_tune import ...`):\n" + "\n".join(lines)


def test_the_built_in_plugins_exist() -> None:
    packages = {path.parts[len(ROOT.parts) + 1] for path in PLUGIN_SOURCES}
    assert {"ldnn_tune_image", "ldnn_tune_sequence", "ldnn_tune_speech"} <= packages


def test_the_built_in_plugins_import_only_the_public_api() -> None:
    uses = [
        (str(path.relative_to(ROOT)), line, what)
        for path in PLUGIN_SOURCES
        for line, what in private_uses(path.read_text(encoding="utf-8"))
    ]
    assert not uses, report(uses)


@pytest.mark.parametrize("kind", KINDS)
def test_the_new_task_templates_import_only_the_public_api(kind: str) -> None:
    rendered = render(kind, PluginNames("blobs", kind).values())
    sources = {path: text for path, text in rendered.items() if path.parts[0] == "src"}
    assert any(path.suffix == ".py" for path in sources)
    uses = [
        (str(path), line, what)
        for path, text in sources.items()
        if path.suffix == ".py"
        for line, what in private_uses(text)
    ]
    assert not uses, report(uses)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from ldnn_tune import Task, HParams\nimport ldnn_tune\nldnn_tune.split_indices", []),
        ("from ldnn_tune_image.task import ImageTask", []),
        ("from ldnn_tune.space.load import space_file", [(1, "from ldnn_tune.space.load")]),
        ("x = 1\nimport ldnn_tune.trial.device as d", [(2, "import ldnn_tune.trial.device")]),
        ("import ldnn_tune\nldnn_tune.space.load.space_file", [(2, "ldnn_tune.space")]),
        ("def f():\n    from ldnn_tune.recipe import data", [(2, "from ldnn_tune.recipe")]),
        (
            "import importlib\nimportlib.import_module('ldnn_tune.trial.device')",
            [(2, "import_module('ldnn_tune.trial.device')")],
        ),
    ],
)
def test_the_check_finds_every_kind_of_private_import(
    code: str, expected: list[tuple[int, str]]
) -> None:
    found = private_uses(code)
    assert [line for line, _ in found] == [line for line, _ in expected]
    for (_, what), (_, start) in zip(found, expected, strict=True):
        assert what.startswith(start), what
