"""``text:PATH``: a UTF-8 text file as (window, next character) pairs for a character-level
language model.

::

    from modular_nn.data.text import load_text

    ds = load_text("text:corpus.txt", input_shape=[32])
    ds.x_train            # (n, 32) int64: windows of 32 character ids
    ds.y_train            # (n,) int64: the id of the character after each window
    ds.vocabulary         # the sorted distinct characters; character k has id k + 1

- The file is read as UTF-8 (a byte order mark is dropped; line endings are read
  as ``\\n``). A relative ``PATH`` is relative to the working directory.
- The window length ``T`` is the model's input shape ``[T]`` (integer ids, for an
  ``embedding`` first layer).
- Vocabulary: the distinct characters (Unicode code points) of the whole file,
  sorted by code point. Id 0 is padding (``embedding``'s ``mask_zero``), never a
  target: character ``vocabulary[k]`` has id ``k + 1``, so the embedding's
  ``input_dim`` and the output layer's ``units`` must be at least
  ``len(vocabulary) + 1``. A model trained on text keeps its vocabulary
  (``model.vocabulary``, stored in its checkpoint); loading text for it encodes
  with that vocabulary, and a character outside it is a ``DataError`` naming it.
- Pairs: every window of ``T`` consecutive characters and the character after
  it, ``len(text) - T`` pairs. Held out: the last tenth of the pairs (rounded
  down), those whose target lies at the end of the text; their windows may reach
  back into the training text, as a model's context does. A text with fewer than
  10 pairs has no held-out split.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modular_nn.data.dataset import Dataset
from modular_nn.data.location import missing_message
from modular_nn.errors import DataError

TEXT_PREFIX = "text:"
#: Id 0 is padding: character ``vocabulary[k]`` has id ``k + 1``.
PAD_ID = 0
#: The fraction of (window, next character) pairs held out, taken from the end.
HELD_OUT_FRACTION = 0.1

Shape = Sequence[int]


@dataclass(frozen=True, repr=False)  # Dataset's short repr, not every array
class TextDataset(Dataset):
    """A ``Dataset`` of (window, next character) ids and the vocabulary that encodes them.

    Attributes:
        vocabulary: the characters, sorted; ``vocabulary[k]`` has id ``k + 1``.
    """

    vocabulary: tuple[str, ...] = ()


def read_text(path: str | os.PathLike[str]) -> str:
    """The content of a UTF-8 text file; ``DataError`` if it is missing, not UTF-8, or empty."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"text: expected a file, received a directory: {str(path)!r}")
    if not path.is_file():
        raise DataError(missing_message(path, "text file"))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read text file {str(path)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        raise DataError(
            f"{str(path)!r} is not UTF-8 text: byte {exc.start} is {bad!r} (text: sources "
            "read UTF-8; convert the file first)"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise DataError(f"text file {str(path)!r} is empty; expected some characters")
    return text


def build_vocabulary(text: str) -> tuple[str, ...]:
    """The distinct characters of ``text``, sorted by code point."""
    return tuple(sorted(set(text)))


def encode(text: str, vocabulary: Sequence[str], what: str = "the text") -> np.ndarray:
    """``text`` as int64 ids (``vocabulary[k]`` is ``k + 1``); ``DataError`` naming every
    character outside ``vocabulary``."""
    index = {char: k + 1 for k, char in enumerate(vocabulary)}
    unknown = sorted({char for char in text if char not in index})
    if unknown:
        raise DataError(
            f"{what} has {len(unknown)} character(s) outside the model's vocabulary of "
            f"{len(vocabulary)}: {describe_characters(unknown)}"
        )
    return np.fromiter((index[char] for char in text), dtype=np.int64, count=len(text))


def decode(ids: Sequence[int] | np.ndarray, vocabulary: Sequence[str]) -> str:
    """The characters of ids ``1..len(vocabulary)`` (padding, id 0, is left out)."""
    return "".join(vocabulary[int(i) - 1] for i in ids if int(i) != PAD_ID)


def describe_characters(chars: Sequence[str], limit: int = 20) -> str:
    """``'é' (U+00E9), '\\t' (U+0009)``: each character quoted with its code point."""
    shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in chars[:limit])
    return shown + (f" and {len(chars) - limit} more" if len(chars) > limit else "")


def _one_shape(shapes: Shape | Mapping[str, Shape], role: str, gives: str) -> tuple[int, ...]:
    """The shape of the model's one input or output (``role``); a dict of one named shape
    too. ``DataError`` for several."""
    if isinstance(shapes, Mapping):
        if len(shapes) != 1:
            raise DataError(
                f"a text: source gives one {gives}, but this model has {role}s "
                + ", ".join(repr(n) for n in shapes)
            )
        shapes = next(iter(shapes.values()))
    return tuple(int(d) for d in shapes)


def window_length(input_shape: Shape | Mapping[str, Shape]) -> int:
    """``T`` of a model input ``[T]`` (one input; a dict of one named input too)."""
    shape = _one_shape(input_shape, "input", "input (windows of character ids)")
    if len(shape) != 1:
        raise DataError(
            "a text: source gives windows of character ids: expected a model input shape "
            f"[T] (T characters per window), received {list(shape)}"
        )
    return shape[0]


def check_output(output_shape: Shape | Mapping[str, Shape], vocabulary: Sequence[str]) -> None:
    """``DataError`` unless ``output_shape`` (one output; a dict of one named output too)
    is ``(classes,)`` with a class for every id."""
    shape = _one_shape(output_shape, "output", "target (the next character)")
    needed = len(vocabulary) + 1
    if len(shape) != 1:
        raise DataError(
            "a text: source gives one next character per window: expected a model output "
            f"of shape ({needed},) (one probability per id), received {shape}"
        )
    if shape[0] < needed:
        raise DataError(
            f"the text has {len(vocabulary)} distinct characters, ids 1 to {len(vocabulary)} "
            f"(0 is padding): expected an output of at least {needed} units, received "
            f"{shape[0]}; set the last layer's units (and the embedding's input_dim) to "
            f"{needed} or more"
        )


def pairs(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``window`` ids, ``(n, window)`` (a read-only view, no copy), and
    the id after each, ``(n,)``; ``n = len(ids) - window``."""
    x = np.lib.stride_tricks.sliding_window_view(ids[:-1], window)
    return x, ids[window:]


def load_text(
    source: str | os.PathLike[str],
    input_shape: Shape | Mapping[str, Shape] | None,
    *,
    vocabulary: Sequence[str] | None = None,
    output_shape: Shape | Mapping[str, Shape] | None = None,
    held_out: bool = True,
) -> TextDataset:
    """Load ``text:PATH`` (or a plain path) into (window, next character) pairs.

    Args:
        source: ``text:PATH``; a relative path is relative to the working directory.
        input_shape: the model's input shape ``[T]`` (or its inputs, name to shape).
        vocabulary: encode with this vocabulary (a trained model's) instead of the
            file's own; characters outside it are a ``DataError``.
        output_shape: the model's output shape (or its outputs, name to shape), checked
            to have a class per id.
        held_out: False to keep every pair in ``x_train``/``y_train`` (prediction).

    Raises ``DataError`` for a missing, empty or non-UTF-8 file, a text with no
    complete pair (fewer than ``T + 1`` characters) and a model it does not fit.
    """
    text_source = os.fspath(source)
    path = text_source.removeprefix(TEXT_PREFIX)
    if input_shape is None:
        raise DataError(
            f"{text_source!r}: a text: source needs the model's input shape [T] (the window length)"
        )
    window = window_length(input_shape)
    text = read_text(path)
    if len(text) <= window:
        raise DataError(
            f"text file {path!r} is too short: it has {len(text)} characters, but a window "
            f"of {window} and its next character need at least {window + 1}"
        )
    vocab = build_vocabulary(text) if vocabulary is None else tuple(vocabulary)
    ids = encode(text, vocab, what=f"text file {path!r}")
    if output_shape is not None:
        check_output(output_shape, vocab)
    x, y = pairs(ids, window)
    n_test = int(len(y) * HELD_OUT_FRACTION) if held_out else 0
    if n_test == 0:
        return TextDataset(x, y, name=text_source, vocabulary=vocab)
    cut = len(y) - n_test
    return TextDataset(x[:cut], y[:cut], x[cut:], y[cut:], name=text_source, vocabulary=vocab)
