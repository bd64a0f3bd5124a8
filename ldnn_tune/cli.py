"""The ``ldnn-tune`` command: run, tasks, check, space, ensemble, predict, ui."""

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.commands import COMMANDS, load_command
from ldnn_tune.errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from ldnn_tune.study.clock import mark_command_start


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser: a subcommand followed by ``key=value`` words."""
    parser = _Parser(prog="ldnn-tune", description=__doc__)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        sub.add_argument("words", nargs="*", metavar="key=value")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    mark_command_start()
    console = Console()
    try:
        args = build_parser().parse_args(argv)
        return load_command(args.command)(args.words, console)
    except UsageError as error:
        Console(stderr=True, highlight=False).print(f"error: {error}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; run the same command again to continue the study")
        return EXIT_INTERRUPTED


def run() -> None:
    """Run the command line as the ``ldnn-tune`` program, and end the process at once.

    Tearing down an interpreter that has loaded torch, Lightning and MLflow takes about
    two seconds (their finalisers), which a ``timeout`` budget would pay for nothing:
    every file and store is closed by then, so the output is flushed and the process
    exits without the teardown.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
