"""``ldnn-tune ui``: the MLflow UI on the tracking store, bound to 127.0.0.1."""

import subprocess
import sys
from collections.abc import Sequence

from rich.console import Console

from ldnn_tune.config.settings import UiConfig
from ldnn_tune.config.stores import check_mlflow
from ldnn_tune.config.words import parse_words
from ldnn_tune.errors import UsageError


def main(words: Sequence[str], console: Console) -> int:
    """Serve the MLflow UI for the tracking store on 127.0.0.1 until interrupted."""
    config = parse_words(UiConfig, words)
    if config.mlflow.startswith(("http://", "https://")):
        raise UsageError(f"mlflow={config.mlflow} is a server already: open it in a browser")
    check_mlflow(config.mlflow, read_only=True)
    console.print(f"MLflow UI for {config.mlflow} at http://127.0.0.1:{config.port} (Ctrl-C stops)")
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        config.mlflow,
        "--host",
        "127.0.0.1",
        "--port",
        str(config.port),
    ]
    return subprocess.call(command)
