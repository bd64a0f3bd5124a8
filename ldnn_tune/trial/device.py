"""Which device trials train on, asked cheaply: a task sizes its defaults by the answer.

Lightning's ``accelerator="auto"`` trains on a CUDA GPU when torch sees one. Asking torch
costs the import of torch (seconds), so a machine without NVIDIA's driver is answered
from the file system first.
"""

import os
from pathlib import Path

NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")  # one folder per GPU, where the driver runs


def available_cores() -> int:
    """Return the CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gpu_available() -> bool:
    """Return whether trials will train on a CUDA GPU."""
    if not NVIDIA_GPUS.is_dir() or not any(NVIDIA_GPUS.iterdir()):
        return False
    import torch

    return bool(torch.cuda.is_available())
