"""Test kit for task plugins: a tiny real task and the contract suite every task passes."""

from ldnn_tune.testing.boring import BoringOptions, BoringTask

__all__ = ["BoringOptions", "BoringTask"]
