"""``python -m ldnn_tune`` is the ``ldnn-tune`` command."""

import sys

from ldnn_tune.cli import main

sys.exit(main())
