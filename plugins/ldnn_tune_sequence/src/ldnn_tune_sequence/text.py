"""Character-level text: read a local file, map characters to ids, cut fixed windows."""

import codecs
from dataclasses import dataclass
from pathlib import Path

import torch

from ldnn_tune import UsageError

TRAIN_FRACTION = 0.9  # then 5% validation, 5% test, in file order (like nanoGPT's 90/10)
TEXT_SUFFIXES = (".txt",)
# byte-order marks, UTF-32's first: its little-endian mark starts with UTF-16's
MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Corpus:
    """A text's character ids and its vocabulary (sorted characters)."""

    ids: torch.Tensor
    vocab: list[str]
    source: str


def find_text_file(data_dir: Path | None) -> Path:
    """Return the text file ``data_dir`` names: the file itself, or a folder's one ``.txt``."""
    if data_dir is None:
        raise UsageError("problem=text needs data_dir=FILE (a UTF-8 text file); none given")
    if data_dir.is_file():
        return data_dir
    if data_dir.exists() and not data_dir.is_dir():  # a device, a pipe (/dev/null)
        raise UsageError(
            f"data_dir {str(data_dir)!r} is not a regular file; give a UTF-8 text file"
        )
    if not data_dir.is_dir():
        raise UsageError(f"data_dir {str(data_dir)!r} does not exist; give a UTF-8 text file")
    texts = sorted(
        p for p in data_dir.iterdir() if p.suffix.lower() in TEXT_SUFFIXES and p.is_file()
    )
    if len(texts) != 1:
        raise UsageError(
            f"data_dir {str(data_dir)!r} holds {len(texts)} .txt files; give one text file"
        )
    return texts[0]


def load_corpus(path: Path, max_chars: int) -> Corpus:
    """Return the characters of ``path`` (at most ``max_chars``; 0: all) as ids.

    UTF-8, or UTF-16 with its byte-order mark; Windows' and old Macs' line ends read as newlines.
    """
    try:
        raw = path.read_bytes()
        encoding = next((name for mark, name in MARKS if raw.startswith(mark)), "utf-8-sig")
        text = raw.decode(encoding)  # a byte-order mark is not text: the codec drops it
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        said = "UTF-8" if encoding == "utf-8-sig" else f"{encoding.upper()}, as its mark says,"
        raise UsageError(
            f"text file {str(path)!r} is not {said} (byte {error.object[error.start]:#x} at "
            f"{error.start:,}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise UsageError(f"cannot read text file {str(path)!r}: {error.strerror}") from None
    if max_chars:
        text = text[:max_chars]
    if not text:
        raise UsageError(f"text file {str(path)!r} is empty; give a non-empty UTF-8 text file")
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    return Corpus(ids, vocab, str(path))


def windows(ids: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return non-overlapping windows: inputs ``ids[i:i+length]``, targets shifted by one."""
    count = (len(ids) - 1) // length
    if count == 0:  # none fits (a length beyond what any shape holds, too)
        return ids[:0], ids[:0]
    x = ids[: count * length].reshape(count, length)
    y = ids[1 : count * length + 1].reshape(count, length)
    return x, y


def text_parts(corpus: Corpus) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the train, validation and test parts of the corpus, in file order."""
    n = len(corpus.ids)
    train_end = int(n * TRAIN_FRACTION)
    val_end = train_end + (n - train_end) // 2
    return corpus.ids[:train_end], corpus.ids[train_end:val_end], corpus.ids[val_end:]
