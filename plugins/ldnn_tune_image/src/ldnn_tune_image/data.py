"""Image data: scikit-learn's digits (shipped, 8x8 grey) or a folder of class sub-folders."""

import hashlib
import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ldnn_tune import UsageError
from ldnn_tune_image.suffixes import IMAGE_SUFFIXES

DIGITS_MAX = 16.0  # scikit-learn's digits have 17 grey levels, 0 to 16
SIXTEEN_BIT_STEP = 257  # 65535 / 255: a 16-bit grey level onto an 8-bit one
MID_GREY = 128  # an 8-bit colour below it is dark
NAMED = 3  # files or folders a note names before "and N more"
# files operating systems leave in folders by themselves; like ldnn-tune's data
# fingerprint, the note of what was not read leaves them out
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class ImageSet:
    """Images as float32 ``(N, C, H, W)``, integer labels, and the class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    source: str
    note: str = ""  # what the folder holds that was not read


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
    classes of readable images. What it leaves out (folders without images, files of
    other kinds, sub-folders of class folders, files beside them) is named in the set's
    ``note``; hidden files and those the system makes (``Thumbs.db``) are not.
    """
    if not root.is_dir():
        raise UsageError(f"data_dir {str(root)!r} is not a folder of class sub-folders")
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not _hidden(d))
    class_dirs = [d for d in folders if _image_files(d)]
    if len(class_dirs) < 2:
        raise UsageError(
            f"data_dir {str(root)!r} needs at least 2 class sub-folders holding images "
            f"({', '.join(IMAGE_SUFFIXES)}); found {len(class_dirs)}"
        )
    images, labels, paths = [], [], []
    unreadable: list[str] = []
    for label, class_dir in enumerate(class_dirs):
        for path in _image_files(class_dir):
            try:
                images.append(read_image(path, size, color))
            except UsageError as error:
                unreadable.append(str(error))
                continue
            labels.append(label)
            paths.append(path.relative_to(root).as_posix())
    if unreadable:
        raise UsageError(_unreadable_images(unreadable, len(images) + len(unreadable)))
    notes = [_left_out(root, folders, class_dirs), _duplicates(images, paths)]
    return ImageSet(
        np.stack(images),
        np.asarray(labels, dtype=np.int64),
        [d.name for d in class_dirs],
        str(root),
        "; ".join(filter(None, notes)),
    )


def _unreadable_images(errors: list[str], total: int) -> str:
    """Return one line naming why the first few images cannot be read, and how many."""
    if len(errors) == 1:
        return errors[0]
    more = "; ..." if len(errors) > NAMED else ""
    return f"{len(errors)} of {total} images cannot be read: {'; '.join(errors[:NAMED])}{more}"


def _duplicates(images: list[np.ndarray], paths: list[str]) -> str:
    """Return a note naming the images read as the same pixels, or ``""`` when none are.

    A copy may land in training and in validation or test (which then flatter the net:
    the data check counts such shared samples), or in two classes (one picture, two labels).
    """
    groups: dict[bytes, list[str]] = {}
    for image, path in zip(images, paths, strict=True):
        groups.setdefault(hashlib.blake2b(image.tobytes(), digest_size=16).digest(), []).append(
            path
        )
    copies = [" = ".join(group) for group in groups.values() if len(group) > 1]
    if not copies:
        return ""
    extra = sum(len(group) - 1 for group in groups.values())
    return f"{extra} image{'' if extra == 1 else 's'} read as copies of others ({_some(copies)})"


def _left_out(root: Path, folders: list[Path], class_dirs: list[Path]) -> str:
    """Return a note naming what under ``root`` is not read, or ``""`` when all of it is."""
    other_files: list[str] = []
    nested: list[str] = []
    for item in [*root.iterdir(), *(i for d in class_dirs for i in d.iterdir())]:
        if _hidden(item) or item.name.lower() in SYSTEM_FILES or item in folders:
            continue
        name = item.relative_to(root).as_posix()
        if item.is_dir():
            nested.append(name)
        elif item.parent == root or item.suffix.lower() not in IMAGE_SUFFIXES:
            other_files.append(name)
    kinds = [
        ("folder", "without images", [d.name for d in folders if d not in class_dirs]),
        ("file", "not read as an image of a class", other_files),
        ("sub-folder", "of class folders", nested),
    ]
    parts = [
        f"{len(names)} {noun}{'' if len(names) == 1 else 's'} {what} ({_some(sorted(names))})"
        for noun, what, names in kinds
        if names
    ]
    return "left out " + "; ".join(parts) if parts else ""


def _some(names: list[str]) -> str:
    """Return the first few of ``names`` and how many more there are."""
    shown = ", ".join(names[:NAMED])
    return shown if len(names) <= NAMED else f"{shown} and {len(names) - NAMED} more"


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not _hidden(p)
    )


def _hidden(path: Path) -> bool:
    """Return whether ``path`` is hidden: macOS's ``._x.png``, ``.ipynb_checkpoints``."""
    return path.name.startswith(".")


def read_image(path: Path, size: int, color: bool) -> np.ndarray:
    """Return the image at ``path`` as float32 ``(C, size, size)`` in 0..255.

    A photo is turned upright as its EXIF orientation says (as viewers show it), and a
    16-bit image scaled to 8 bits (Pillow would clip it to black and white). Raises
    UsageError naming the file and why when it cannot be read as an image, or when it is
    larger than PIL's decompression-bomb limit (a small file that would decode into
    gigabytes).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                image = _ink_in_alpha(_eight_bit(ImageOps.exif_transpose(opened)))
                converted = image.convert("RGB" if color else "L").resize((size, size))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UsageError(
            f"image {str(path)!r} is too large to decode safely (over "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels): a decompression bomb?"
        ) from None
    except (OSError, UnidentifiedImageError, SyntaxError) as error:
        raise UsageError(f"cannot read image {str(path)!r}: {_unreadable(path, error)}") from None
    array = np.asarray(converted, dtype=np.float32)
    return array.transpose(2, 0, 1) if color else array[None, :, :]


def _ink_in_alpha(image: Image.Image) -> Image.Image:
    """Return an image drawn in its transparency alone over a background that shows it.

    A drawing app may export strokes as one flat colour whose opacity draws the picture
    (black everywhere, the strokes opaque): dropping the alpha band would leave a blank
    image. Such an image is laid over white when its colour is dark and over black when
    it is light, as a viewer shows it; an image whose colours vary keeps them.
    """
    if image.mode in ("P", "PA") and (image.mode == "PA" or "transparency" in image.info):
        image = image.convert("RGBA")
    if "A" not in image.getbands():
        return image
    pixels = np.asarray(image).reshape(-1, len(image.getbands()))
    colours, alpha = pixels[:, :-1], pixels[:, -1]
    if alpha.min() == alpha.max() or (colours != colours[0]).any():
        return image
    dark = colours[0].mean() < MID_GREY
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if dark else (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba).convert(image.mode.replace("A", ""))


def _eight_bit(image: Image.Image) -> Image.Image:
    """Return a 16- or 32-bit integer grey image as 8-bit grey (0-65535 onto 0-255)."""
    if not image.mode.startswith("I"):
        return image
    values = np.asarray(image, dtype=np.float64) / SIXTEEN_BIT_STEP
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="L")


def _unreadable(path: Path, error: BaseException) -> str:
    """Return why ``path`` could not be read as an image, in a few words."""
    if path.is_symlink() and not path.exists():
        return "a broken link"
    if path.is_dir():
        return "a folder, not a file"
    if path.is_file() and path.stat().st_size == 0:
        return "an empty file (0 bytes)"
    if isinstance(error, UnidentifiedImageError):
        return "not an image file Pillow can read"
    return f"damaged ({error})"
