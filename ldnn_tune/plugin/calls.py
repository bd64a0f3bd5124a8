"""Calls into a task plugin's own code: a bug there is reported as the plugin's, in one line.

A ``UsageError`` a plugin raises passes through as it is (that is how a task reports bad
input); any other exception becomes a :class:`ldnn_tune.errors.PluginError` naming the
task, the package it comes from and the method that raised (exit code 3).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from ldnn_tune.errors import PluginError, UsageError


@contextmanager
def plugin_code(task: str, source: str, step: str, kind: str = "task") -> Iterator[None]:
    """Run the block as task ``task`` (from package ``source``)'s ``step``, e.g. ``prepare()``.

    ``kind`` "plugin" names a plugin (an entry point) rather than a task.
    """
    try:
        yield
    except (UsageError, PluginError):  # bad input, or a plugin's fault already named
        raise
    except Exception as error:
        raise PluginError.raised(task, source, step, error, kind) from error
