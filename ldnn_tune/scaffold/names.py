"""The names a new task plugin is made of, derived from its task name and kind."""

import re
from dataclasses import dataclass

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME = 24  # longer names would push the generated code's lines past 100 characters
KINDS = ("classification", "regression")
HOST_NAMES = ("HParams", "Task", "TaskKind", "UsageError")

# What each kind of generated task says about itself, and its noise option.
_KIND_WORDS = {
    "classification": {
        "description": "classify Gaussian blobs with a small MLP",
        "summary": "Classify points of Gaussian blobs with an MLP whose width and depth are knobs.",
        "data_words": "points of three Gaussian blobs",
        "noise_default": "1.0",
        "noise_help": "std of the points around their class centre",
        "output_words": "the prediction (the class) and its score (its probability)",
    },
    "regression": {
        "description": "fit a noisy sinusoid with a small MLP",
        "summary": "Fit a noisy sinusoid of the features with an MLP of knob width and depth.",
        "data_words": "a noisy sinusoid of the features",
        "noise_default": "0.1",
        "noise_help": "std of the noise added to the target",
        "output_words": "the prediction (the ensemble's average) and its spread (the members' "
        "weighted standard deviation)",
    },
}


def valid_name(name: str) -> bool:
    """Return whether ``name`` can name a task and its package: a short lowercase identifier."""
    return len(name) <= MAX_NAME and NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True)
class PluginNames:
    """A task name and kind, and everything the templates name after them."""

    name: str
    kind: str

    @property
    def package(self) -> str:
        """Return the import package, e.g. ``ldnn_tune_blobs``."""
        return f"ldnn_tune_{self.name}"

    @property
    def dist(self) -> str:
        """Return the distribution name pip knows, e.g. ``ldnn-tune-blobs``."""
        return f"ldnn-tune-{self.name.replace('_', '-')}"

    @property
    def prefix(self) -> str:
        """Return the prefix of the class names, e.g. ``Blobs`` for BlobsTask."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    def values(self) -> dict[str, str]:
        """Return every placeholder the templates use."""
        return {
            "name": self.name,
            "package": self.package,
            "dist": self.dist,
            "prefix": self.prefix,
            "kind_member": self.kind.upper(),
            "host_imports": host_imports(),
            **_KIND_WORDS[self.kind],
        }


def host_imports() -> str:
    """Return the task module's imports from ldnn-tune: its public API only."""
    return f"from ldnn_tune import {', '.join(sorted((*HOST_NAMES, 'Domain')))}"
