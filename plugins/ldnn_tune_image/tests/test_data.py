import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from ldnn_tune_image import ImageOptions, ImageTask
from ldnn_tune_image.data import read_image
from ldnn_tune_image.model import make_augmentation
from PIL import Image

from ldnn_tune import HParams, UsageError


def make_folder(root: Path, classes: int = 2, per_class: int = 6, size: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((size, size)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / f"class{c}" / f"{i}.png")
    return root


def test_digits_by_default_split_by_seed() -> None:
    task = ImageTask(ImageOptions(), None, seed=3)
    task.prepare()
    s = task.split
    assert s.x_train.shape[1:] == (1, 8, 8)
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 1797
    assert set(s.y_test.tolist()) == set(range(10))


def test_folder_of_class_folders_is_read_and_resized(tmp_path: Path) -> None:
    task = ImageTask(ImageOptions(image_size=16), make_folder(tmp_path / "data"), seed=0)
    task.prepare()
    assert task.images.classes == ["class0", "class1"]
    assert task.split.x_train.shape[1:] == (1, 16, 16)
    model = task.model(HParams.for_task(task, width=8, depth=2))
    assert model(task.split.x_val).shape == (len(task.split.y_val), 2)


def test_hidden_files_and_folders_are_not_images(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data")
    (root / "class0" / "._0.png").write_bytes(b"\x00\x05\x16\x07 macOS AppleDouble")
    make_folder(root / ".ipynb_checkpoints")  # a notebook's copies: not a class
    task = ImageTask(ImageOptions(), root, seed=0)
    task.prepare()
    assert task.images.classes == ["class0", "class1"]
    assert len(task.images.labels) == 12


def test_color_option_reads_three_channels(tmp_path: Path) -> None:
    task = ImageTask(ImageOptions(image_size=8, color=True), make_folder(tmp_path / "d"), 0)
    task.prepare()
    assert task.split.x_train.shape[1] == 3


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: root.mkdir(), "needs at least 2 class sub-folders"),
        (lambda root: make_folder(root, classes=1), "found 1"),
        (
            lambda root: (make_folder(root), (root / "class0" / "bad.png").write_text("no")),
            "cannot read image",
        ),
        (lambda root: make_folder(root, per_class=2), "too few images"),
        (
            lambda root: (make_folder(root), bomb(root / "class1" / "bomb.png")),
            "is too large to decode safely",
        ),
        (lambda root: (root.parent.mkdir(exist_ok=True), root.write_text("x")), "is not a folder"),
    ],
)
def test_bad_folders_are_one_line_errors(tmp_path: Path, setup, message: str) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(UsageError, match=message):
        ImageTask(ImageOptions(), root, seed=0).prepare()


def test_augmentation_moves_training_batches_only() -> None:
    task = ImageTask(ImageOptions(), None, seed=0)
    task.prepare()
    model = task.model(HParams.for_task(task, aug_strength=1.0))
    assert make_augmentation(0.0) is None
    x = task.split.x_train[:16]
    torch.manual_seed(0)
    assert not torch.allclose(model.augment(x), x)  # type: ignore[misc]
    model.eval()
    torch.testing.assert_close(model.predict_step((x,), 0), model.predict_step((x,), 0))


def test_invalid_image_size_option() -> None:
    with pytest.raises(ValueError, match="image_size=2"):
        ImageOptions(image_size=2)


def bomb(path: Path, side: int = 30_000) -> Path:
    """Write a PNG of a few bytes that claims to be ``side`` x ``side`` pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", side, side)  # the IHDR chunk's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def test_predict_refuses_a_decompression_bomb(tmp_path: Path) -> None:
    task = ImageTask(ImageOptions(), None, 0)
    task.prepare()
    with pytest.raises(UsageError, match="is too large to decode safely"):
        task.read_inputs([bomb(tmp_path / "bomb.png")])


def test_a_16_bit_image_reads_like_its_8_bit_copy(tmp_path: Path) -> None:
    from ldnn_tune_image.data import read_image

    pixels = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "eight.png")
    Image.fromarray(pixels.astype(np.uint16) * 257).save(tmp_path / "sixteen.png")
    eight, sixteen = (read_image(tmp_path / f"{n}.png", 8, False) for n in ("eight", "sixteen"))
    assert np.array_equal(eight, sixteen)  # Pillow alone clips it to 0 and 255


def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path: Path) -> None:
    from ldnn_tune_image.data import read_image

    upright = np.zeros((8, 8), dtype=np.uint8)
    upright[:2, :] = 255  # a bar along the top
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    read = read_image(tmp_path / "phone.jpg", 8, False)[0]
    assert read[:2].mean() > 200 and read[4:].mean() < 50


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda path: path.write_bytes(b""), "an empty file (0 bytes)"),
        (lambda path: path.write_text("hello"), "not an image file Pillow can read"),
        (lambda path: path.symlink_to(path.parent / "gone.png"), "a broken link"),
        (
            lambda path: path.write_bytes(jpeg_bytes()[: len(jpeg_bytes()) // 2]),
            "damaged (image file is truncated",
        ),
    ],
)
def test_an_unreadable_image_says_why(tmp_path: Path, make, why: str) -> None:  # type: ignore[no-untyped-def]
    from ldnn_tune_image.data import read_image

    path = tmp_path / "x.png"
    make(path)
    with pytest.raises(UsageError, match=re.escape(f"cannot read image '{path}': {why}")):
        read_image(path, 8, False)


def test_every_unreadable_image_of_a_folder_is_named_in_one_line(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data")
    (root / "class0" / "7.png").write_bytes(b"")
    (root / "class1" / "8.png").write_text("hello")
    with pytest.raises(UsageError) as info:
        ImageTask(ImageOptions(), root, seed=0).prepare()
    assert str(info.value) == (
        f"2 of 14 images cannot be read: cannot read image '{root}/class0/7.png': an empty "
        f"file (0 bytes); cannot read image '{root}/class1/8.png': not an image file Pillow "
        "can read"
    )


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    pixels = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


def test_what_the_folder_holds_and_is_not_read_is_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data")
    (root / "empty").mkdir()
    (root / "class0" / "extra.jfif").write_bytes(b"x")
    (root / "class1" / "labels.txt").write_text("x")
    make_folder(root / "class1" / "more", classes=1, per_class=1)
    (root / "class0" / "Thumbs.db").write_bytes(b"x")  # the system's: not named
    (root / "loose.png").write_bytes(png_bytes())
    task = ImageTask(ImageOptions(), root, seed=0)
    task.prepare()
    assert len(task.images.labels) == 12
    assert task.describe_data().endswith(
        "; left out 1 folder without images (empty); 3 files not read as an image of a "
        "class (class0/extra.jfif, class1/labels.txt, loose.png); 1 sub-folder of class "
        "folders (class1/more)"
    )
    clean = ImageTask(ImageOptions(), make_folder(tmp_path / "clean"), seed=0)
    clean.prepare()
    assert "left out" not in clean.describe_data()


def test_images_read_as_the_same_pixels_are_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data")
    (root / "class1" / "copy.png").write_bytes((root / "class0" / "2.png").read_bytes())
    task = ImageTask(ImageOptions(), root, seed=0)
    task.prepare()
    assert task.describe_data().endswith(
        "; 1 image read as copies of others (class0/2.png = class1/copy.png)"
    )
    clean = ImageTask(ImageOptions(), make_folder(tmp_path / "clean"), seed=0)
    clean.prepare()
    assert "copies" not in clean.describe_data()


@pytest.mark.parametrize(
    ("colour", "mode", "ink", "paper"),
    [((0, 0, 0), "RGBA", 0, 255), ((255, 255, 255), "RGBA", 255, 0), ((0,), "LA", 0, 255)],
)
def test_an_image_drawn_in_its_transparency_alone_is_not_blank(
    tmp_path: Path, colour: tuple[int, ...], mode: str, ink: int, paper: int
) -> None:
    pixels = np.zeros((16, 16, len(colour) + 1), dtype=np.uint8)
    pixels[..., :-1] = colour
    pixels[2:14, 6:10, -1] = 255  # the stroke: opaque; the rest: transparent
    Image.fromarray(pixels, mode).save(tmp_path / "stroke.png")
    grey = read_image(tmp_path / "stroke.png", 16, color=False)[0]
    assert grey[8, 8] == ink
    assert grey[0, 0] == paper


def test_an_image_whose_colours_vary_keeps_them_under_transparency(tmp_path: Path) -> None:
    pixels = np.zeros((16, 16, 4), dtype=np.uint8)  # transparent black paper
    pixels[2:14, 6:10] = (255, 255, 255, 255)  # an opaque white stroke
    Image.fromarray(pixels, "RGBA").save(tmp_path / "stroke.png")
    grey = read_image(tmp_path / "stroke.png", 16, color=False)[0]
    assert (grey[8, 8], grey[0, 0]) == (255, 0)
