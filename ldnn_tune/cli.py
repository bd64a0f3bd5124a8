"""The ``ldnn-tune`` command line: a command, then ``key=value`` words."""

import argparse
import contextlib
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.cache import give_matplotlib_a_cache
from ldnn_tune.commands import COMMANDS, Command, load_command, settings_help
from ldnn_tune.console.streams import guard_stdout
from ldnn_tune.errors import (
    DEBUG_ENV,
    EXIT_FAILED,
    EXIT_PLUGIN,
    EXIT_USAGE,
    USER_STOPS,
    CommandFailed,
    Interrupted,
    PluginError,
    UsageError,
    disk_full,
    first_line,
    name_too_long,
    out_of_memory,
    shortened,
    study_gone,
    unknown_choice,
    written_store,
)
from ldnn_tune.interrupts import interruptible
from ldnn_tune.study.clock import mark_command_start

DESCRIPTION = "Tune deep nets with the recipe of 'A Brief Overview of Deep Learning'."
EPILOG = "Each command's settings, defaults and examples: ldnn-tune COMMAND --help"
FILE_COLUMNS = 160  # output to a file or pipe: tables of knobs fit a line of a log


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(_plain(message))


def _plain(message: str) -> str:
    """Return argparse's ``message`` in this command line's own terms.

    A mistyped command gets its likely meaning; a ``--flag`` is told that settings are
    ``key=value`` words (argparse says only "unrecognized arguments").
    """
    command = re.search(r"invalid choice: '([^']*)'", message)
    if command is not None:
        return unknown_choice("command", command.group(1), COMMANDS)
    flags = re.match(r"unrecognized arguments: (-\S*)", message)
    if flags is not None:
        flag = flags.group(1).lstrip("-").split("=")[0] or "-"
        return (
            f"unknown option {flags.group(1)!r}: settings are key=value words, not flags "
            f"(e.g. {flag}=VALUE); ldnn-tune COMMAND --help lists them"
        )
    return message


class _CommandParser(_Parser):
    """A command's parser: its help lists the settings, built only when asked for."""

    command: Command | None = None

    def format_help(self) -> str:
        """Return the usage and description, then the command's settings and examples."""
        extra = settings_help(self.command) if self.command else ""
        return super().format_help() + (f"\n{extra}\n" if extra else "")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser: a subcommand followed by ``key=value`` words."""
    parser = _Parser(
        prog="ldnn-tune",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ldnn-tune {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        sub.command = command
        sub.add_argument("words", nargs="*", metavar="key=value")
    return parser


def _version() -> str:
    """Return the installed ldnn-tune's version (its package metadata, not an import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ldnn-tune")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def output_width() -> int | None:
    """Return the width of output to a file or pipe (a log): wider than rich's 80 columns.

    A terminal's own width, or ``COLUMNS``, decides otherwise (None); so does the terminal
    of stderr, when there is one: ``ldnn-tune run ... | tee run.log`` still shows there.
    """
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return None
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):  # no terminal, or no file behind stderr
        return FILE_COLUMNS


def drop_unusable_columns() -> None:
    """Forget a ``COLUMNS`` that is no width (0, -1, ``abc``): rich printed nothing at 0."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and not (columns.isdigit() and int(columns) > 0):
        del os.environ["COLUMNS"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Every failure ends in one line on stderr and its exit code (see
    :mod:`ldnn_tune.errors`); ``LDNN_TUNE_DEBUG=1`` adds the traceback.
    """
    mark_command_start()
    guard_stdout()
    drop_unusable_columns()
    give_matplotlib_a_cache()
    console = Console(width=output_width())
    command = ""
    words: list[str] = []
    try:
        with interruptible():
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.command is None:  # `ldnn-tune` alone: what it can do, then the error
                parser.print_help()
                raise UsageError(f"a command is required: {', '.join(COMMANDS)}")
            command, words = args.command, args.words
            return load_command(command)(words, console)
    except UsageError as error:
        return _fail(f"error: {error}", EXIT_USAGE, error)
    except CommandFailed as error:
        return _fail(f"error: {error}", EXIT_FAILED, error)
    except PluginError as error:
        limit = _beyond_limits(error.original, words, str(error))
        if limit is not None:
            return _fail(limit, EXIT_USAGE, error.original)
        return _fail(f"error: {error}", EXIT_PLUGIN, error.original)
    except USER_STOPS as error:
        stop = Interrupted.of(error)
        return _fail(_interrupted_line(stop, command), stop.exit_code, error)
    except Exception as error:
        full = disk_full(error)
        if full is not None:
            line = (
                f"error: disk full writing {written_store(error)} ({first_line(full)}); "
                "free some space and run the same command again"
            )
            return _fail(line, EXIT_FAILED, error)
        limit = _beyond_limits(error, words, first_line(error))
        if limit is not None:
            return _fail(limit, EXIT_USAGE, error)
        if study_gone(error):
            line = "error: the study is gone from its storage (deleted while this command ran?)"
            if command == "run":
                line += "; its MLflow runs were ended"
            return _fail(line, EXIT_FAILED, error)
        hint = f"(set {DEBUG_ENV}=1 to see where)"
        return _fail(f"error: ldnn-tune failed: {first_line(error)} {hint}", EXIT_FAILED, error)


def _fail(line: str, code: int, error: BaseException) -> int:
    """Print ``line`` (and, when debugging, ``error``'s traceback) on stderr; return ``code``."""
    stderr = Console(stderr=True, highlight=False)
    if os.environ.get(DEBUG_ENV) == "1":
        stderr.print("".join(traceback.format_exception(error)), markup=False, end="")
    # a value typed with a line break in it (a URL, a path) still gives one line
    stderr.print(line.replace("\r", "\\r").replace("\n", "\\n"), markup=False, soft_wrap=True)
    return code


def _beyond_limits(error: BaseException, words: list[str], failure: str) -> str | None:
    """Return the line for input that asked more than the machine allows, else None.

    That is a file name longer than the file system takes, or sizes that do not fit in
    memory (``length=1000000000``); ``failure`` says what failed.
    """
    long_name = name_too_long(error)
    if long_name is not None:
        name = shortened(str(long_name.filename or ""))
        return f"error: the file name {name!r} is too long for this file system; give a shorter one"
    if out_of_memory(error) is not None:
        sizes = _sizes_given(words)
        if sizes:
            return f"error: {failure}; not enough memory for the sizes given ({sizes}): lower them"
        spaces = [word for word in words if word.startswith("space=")]
        if spaces:
            return (
                f"error: {failure}; not enough memory for the sizes {spaces[-1]} allows: lower them"
            )
        return f"error: {failure}; not enough memory for the task's default sizes on this machine"
    return None


def _sizes_given(words: list[str]) -> str:
    """Return the numeric task options and knobs among ``words``, e.g. ``length=1000000000``."""
    from ldnn_tune.config.settings import RunConfig  # only on this error path
    from ldnn_tune.config.words import field_names

    settings = set(field_names(RunConfig)) - {"n_jobs"}
    sizes = []
    for word in words:
        key, _, value = word.partition("=")
        if key not in settings and value.replace(".", "", 1).replace("e", "", 1).isdigit():
            sizes.append(word)
    return " ".join(sizes)


def _interrupted_line(stop: Interrupted, command: str) -> str:
    """Return what an interrupted ``command`` tells the user."""
    what = f"interrupted ({stop})"
    if command == "ui":
        return f"{what}: the MLflow UI stopped"
    if command != "run":
        return what
    stopped = sorted({*stop.others, *([] if stop.trial is None else [stop.trial])})
    if not stopped and not stop.study_open:  # in the pre-flight or opening the study
        return f"{what} before any trial started; run the same command again to run the study"
    if not stopped:
        return f"{what}; run the same command again to continue the study"
    if len(stopped) == 1:
        which, whose = f"trial {stopped[0]}", f"trial {stopped[0]}'s"
    else:
        which = f"trials {', '.join(str(n) for n in stopped[:-1])} and {stopped[-1]}"
        whose = "their"
    return (
        f"{what}: {which} marked FAIL; run the same command again to continue "
        f"({whose} knobs run again first)"
    )


def run() -> None:
    """Run the command line as the ``ldnn-tune`` program, and end the process at once.

    Tearing down an interpreter that has loaded torch, Lightning and MLflow takes about
    two seconds (their finalisers), which a ``timeout`` budget would pay for nothing:
    every file and store is closed by then, so the output is flushed and the process
    exits without the teardown.
    """
    code = main()
    stores = sys.modules.get("ldnn_tune.sqlite")  # loaded where a command opened a store
    if stores is not None:
        stores.checkpoint_all()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # a reader gone, a stream closed
                stream.flush()
    logging.shutdown()
    os._exit(code)
