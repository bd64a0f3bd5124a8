"""Where ldnn-tune keeps what it can rebuild: ``$XDG_CACHE_HOME/ldnn_tune`` (``~/.cache``)."""

import os
from pathlib import Path


def cache_root() -> Path:
    """Return ``$XDG_CACHE_HOME/ldnn_tune`` (``~/.cache/ldnn_tune``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ldnn_tune"
