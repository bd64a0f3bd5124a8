"""Render the templates of a new task plugin: ``templates/common`` and ``templates/<kind>``.

A template file ``X.tmpl`` becomes ``X`` with ``$$name``-style placeholders filled by
:class:`string.Template`; other files are copied as they are; a folder called
``__package__`` becomes the plugin's import package.
"""

from collections.abc import Iterator, Mapping
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path, PurePosixPath
from string import Template

TEMPLATES = "templates"
COMMON = "common"
SUFFIX = ".tmpl"
PACKAGE_FOLDER = "__package__"


def render(kind: str, values: Mapping[str, str]) -> dict[PurePosixPath, str]:
    """Return the plugin's files (relative path -> text) for ``kind``, filled from ``values``.

    Nothing is written: a missing placeholder raises KeyError before any file exists.
    """
    root = files("ldnn_tune.scaffold") / TEMPLATES
    rendered: dict[PurePosixPath, str] = {}
    for folder in (COMMON, kind):
        for relative, source in _walk(root / folder, PurePosixPath()):
            target = PurePosixPath(
                *(values["package"] if part == PACKAGE_FOLDER else part for part in relative.parts)
            )
            text = source.read_text(encoding="utf-8")
            if target.suffix == SUFFIX:
                target, text = target.with_suffix(""), Template(text).substitute(values)
            rendered[target] = text
    return dict(sorted(rendered.items()))


def _walk(
    folder: Traversable, prefix: PurePosixPath
) -> Iterator[tuple[PurePosixPath, Traversable]]:
    """Yield every file under ``folder`` with its path relative to it."""
    for entry in folder.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _walk(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry


def write(folder: Path, rendered: Mapping[PurePosixPath, str]) -> list[Path]:
    """Write ``rendered`` files under ``folder`` (created as needed); return their paths."""
    written = []
    for relative, text in rendered.items():
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
