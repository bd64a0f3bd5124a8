"""``ldnn-tune new-task NAME``: write a new task plugin package that works as it stands."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from ldnn_tune.config.words import require_choice, split_words
from ldnn_tune.errors import EXIT_OK, UsageError, unknown_choice
from ldnn_tune.scaffold.names import KINDS, MAX_NAME, PluginNames, valid_name
from ldnn_tune.scaffold.render import render, write

USAGE = "ldnn-tune new-task NAME [dir=PATH kind=classification|regression]"
KEYS = ("dir", "kind")


@dataclass(frozen=True)
class NewTask:
    """What to write: the plugin's names and the folder to write it into."""

    names: PluginNames
    folder: Path


def main(words: Sequence[str], console: Console) -> int:
    """Write the plugin package, then print its files and the commands to try it."""
    request = parse(words)
    check_name_free(request.names)
    check_folder(request.folder)
    rendered = render(request.names.kind, request.names.values())
    try:
        written = write(request.folder, rendered)
    except OSError as error:
        raise UsageError(f"cannot write {str(request.folder)!r}: {error.strerror}") from None
    report(console, request, written)
    return EXIT_OK


def parse(words: Sequence[str]) -> NewTask:
    """Return the request in ``words``: one NAME, then ``key=value`` words."""
    positional = [word for word in words if "=" not in word]
    if not positional:
        named = [w for w in words if w.startswith("name=")]
        hint = f" (the name alone: new-task {named[0][5:]})" if named else ""
        raise UsageError(f"missing NAME{hint}; usage: {USAGE}")
    if len(positional) > 1:
        raise UsageError(f"new-task takes one NAME, got {positional[0]!r} and {positional[1]!r}")
    name = positional[0]
    if not valid_name(name):
        raise UsageError(
            f"invalid NAME {name!r}: use a lowercase Python identifier such as my_task "
            f"(a letter first, then letters, digits or underscores; at most {MAX_NAME})"
        )
    values = split_words(word for word in words if "=" in word)
    for key in values:
        if key not in KEYS:
            raise UsageError(unknown_choice("key", key, KEYS))
    kind = values.get("kind", KINDS[0])
    require_choice("kind", kind, KINDS)
    names = PluginNames(name, kind)
    # a shell leaves ~ as it is after dir=: it would make a folder named ~ here
    return NewTask(names, Path(values.get("dir") or names.dist).expanduser())


def check_name_free(names: PluginNames) -> None:
    """Refuse the name of an installed task, or of an installed package the plugin would be.

    ``pip install -e`` of a package named like an installed one replaces it (a new
    ``image`` plugin would uninstall the built-in ``ldnn-tune-image``).
    """
    from importlib.metadata import PackageNotFoundError, version

    from ldnn_tune.plugin.manager import Host, get_plugin_manager

    installed = Host(get_plugin_manager()).tasks()
    if names.name in installed:
        raise UsageError(
            f"invalid NAME {names.name!r}: a task of that name is installed already "
            f"(installed: {', '.join(sorted(installed))}); choose another name"
        )
    try:
        found = version(names.dist)
    except PackageNotFoundError:
        return
    raise UsageError(
        f"invalid NAME {names.name!r}: package {names.dist} {found} is installed already, "
        "and installing the new one would replace it; choose another name"
    )


def check_folder(folder: Path) -> None:
    """Refuse a folder that holds anything, or a path that is not a folder."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"invalid dir={folder}: it is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(f"invalid dir={folder}: the folder is not empty; choose a new one")


def report(console: Console, request: NewTask, written: Sequence[Path]) -> None:
    """Print the files written and the commands that install, run and test the plugin."""
    folder, name = request.folder, request.names.name
    # soft_wrap: the terminal wraps a long path, which stays whole to copy
    console.print(
        f"wrote task plugin {name!r} ({request.names.kind}) in {folder}:",
        markup=False,
        soft_wrap=True,
    )
    for path in written:
        console.print(f"  {path.relative_to(folder)}", markup=False, highlight=False)
    console.print("next:", markup=False)
    for command in (
        f"pip install -e {folder}",
        f"ldnn-tune run task={name}",
        f"pytest {folder / 'tests'}",
    ):
        console.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)
