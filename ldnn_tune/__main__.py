"""``python -m ldnn_tune`` is the ``ldnn-tune`` command."""

from ldnn_tune.cli import run

run()
