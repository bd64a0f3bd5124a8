"""Image data: scikit-learn's digits (shipped, 8x8 grey) or a folder of class sub-folders."""

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ldnn_tune import UsageError
from ldnn_tune_image.suffixes import IMAGE_SUFFIXES

DIGITS_MAX = 16.0  # scikit-learn's digits have 17 grey levels, 0 to 16


@dataclass(frozen=True)
class ImageSet:
    """Images as float32 ``(N, C, H, W)``, integer labels, and the class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    source: str


def load_digits_set() -> ImageSet:
    """Return scikit-learn's 1,797 handwritten digits (8x8, 17 grey levels).

    The data file is read straight from scikit-learn's package folder: importing
    scikit-learn itself would cost a second and ~100 MB of memory in every trial process.
    """
    raw = _read_digits_file()
    if raw is None:  # a scikit-learn that keeps the file elsewhere
        from sklearn.datasets import load_digits

        digits = load_digits()
        raw = np.column_stack([digits.data, digits.target])
    images = raw[:, :-1].astype(np.float32).reshape(-1, 1, 8, 8)
    labels = raw[:, -1].astype(np.int64)
    return ImageSet(images, labels, [str(c) for c in range(10)], "scikit-learn digits")


def _read_digits_file() -> np.ndarray | None:
    """Return the rows of scikit-learn's ``digits.csv.gz`` (64 pixels, then the label)."""
    spec = importlib.util.find_spec("sklearn")
    roots = (spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return np.loadtxt(path, delimiter=",")
    return None


def load_folder(root: Path, size: int, color: bool) -> ImageSet:
    """Return the images under ``root/<class>/`` resized to ``size``x``size``.

    Raises UsageError naming the path when the folder does not hold at least two
    classes of readable images.
    """
    if not root.is_dir():
        raise UsageError(f"data_dir {str(root)!r} is not a folder of class sub-folders")
    class_dirs = sorted(
        d for d in root.iterdir() if d.is_dir() and not _hidden(d) and _image_files(d)
    )
    if len(class_dirs) < 2:
        raise UsageError(
            f"data_dir {str(root)!r} needs at least 2 class sub-folders holding images "
            f"({', '.join(IMAGE_SUFFIXES)}); found {len(class_dirs)}"
        )
    images, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        for path in _image_files(class_dir):
            images.append(read_image(path, size, color))
            labels.append(label)
    return ImageSet(
        np.stack(images),
        np.asarray(labels, dtype=np.int64),
        [d.name for d in class_dirs],
        str(root),
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not _hidden(p)
    )


def _hidden(path: Path) -> bool:
    """Return whether ``path`` is hidden: macOS's ``._x.png``, ``.ipynb_checkpoints``."""
    return path.name.startswith(".")


def read_image(path: Path, size: int, color: bool) -> np.ndarray:
    """Return the image at ``path`` as float32 ``(C, size, size)`` in 0..255.

    Raises UsageError naming the file when it cannot be read as an image, or when it is
    larger than PIL's decompression-bomb limit (a small file that would decode into
    gigabytes).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                converted = image.convert("RGB" if color else "L").resize((size, size))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UsageError(
            f"image {str(path)!r} is too large to decode safely (over "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels): a decompression bomb?"
        ) from None
    except (OSError, UnidentifiedImageError):
        raise UsageError(f"cannot read image {str(path)!r}") from None
    array = np.asarray(converted, dtype=np.float32)
    return array.transpose(2, 0, 1) if color else array[None, :, :]
