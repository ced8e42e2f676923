"""``images:PATH``: a folder of images, one subfolder per class, read batch by batch.

::

    PATH/
      cat/  001.png  002.jpg ...
      dog/  a.jpeg ...

- Classes: the subfolders' names, sorted; class ``k`` is ``class_names[k]``
  (``ImageDataset.class_names``, ``ImageFolderSource.class_names``). Images:
  the files ending in ``.png``, ``.jpg`` or ``.jpeg`` (any case) directly in a
  class folder; other files are ignored, a class folder without images is a
  ``DataError``.
- Each image is converted to the model's input shape ``(H, W, C)``: grayscale
  for ``C`` 1, RGB for 3, RGBA for 4, resized to ``W`` x ``H`` (bilinear, as
  Keras's ``image_dataset_from_directory``), and scaled to [0, 1] (8-bit values
  divided by 255), float32.
- Streaming: an ``ImageFolderSource`` (a ``BatchSource``) decodes only the
  images of the block it reads (``block_rows``, 256 by default), never the
  whole folder; shuffling uses the generator ``fit`` passes, as for every source.
- Order and split: the files are put in one fixed, seeded order (``seed``,
  default 0), classes interleaved, so that contiguous blocks and Keras's
  ``validation_split`` (the last rows) mix the classes. ``test_split`` holds out
  that fraction of each class (rounded, at least one image when above 0) as the
  dataset's test part, which ``modular-nn train`` scores after training.
  Options follow the path as a query: ``images:digits_png?test_split=0.2&seed=1``.
- Decoding needs Pillow, the ``[images]`` extra; without it the error says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from modular_nn.data.dataset import Dataset
from modular_nn.data.sources import BatchSource
from modular_nn.errors import DataError

IMAGES_PREFIX = "images:"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
INSTALL_HINT = "pip install 'modular-nn[images]' (Pillow)"
#: Pillow's mode for each number of channels.
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def require_pillow() -> Any:
    """Pillow's ``Image`` module; ``DataError`` naming the ``[images]`` extra without it."""
    try:
        from PIL import Image
    except ImportError:
        raise DataError(
            f"images:PATH sources need Pillow, which is not installed: {INSTALL_HINT}"
        ) from None
    return Image


@dataclass(frozen=True, repr=False)  # Dataset's short repr
class ImageDataset(Dataset):
    """A ``Dataset`` of an image folder: ``x_train`` (and ``x_test``) are
    ``ImageFolderSource``s carrying their labels.

    Attributes:
        class_names: the class folders' names, sorted; label ``k`` is ``class_names[k]``.
    """

    class_names: tuple[str, ...] | None = None


def scan_folder(root: Path) -> tuple[tuple[str, ...], list[Path], np.ndarray]:
    """The class names (sorted subfolders), every image file (by class, then name) and
    each file's class index; ``DataError`` for a missing folder, no class folder, or a
    class folder without images."""
    if not root.is_dir():
        what = "a folder, received a file" if root.exists() else "folder not found"
        raise DataError(f"images: expected {what}: {str(root.resolve())!r}")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(
            f"images: {str(root)!r} has no class folders; expected one subfolder per class "
            f"holding {', '.join(IMAGE_SUFFIXES)} files (PATH/<class>/<image>)"
        )
    files: list[Path] = []
    labels: list[int] = []
    for k, name in enumerate(classes):
        found = sorted(
            p for p in (root / name).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not found:
            raise DataError(
                f"images: the class folder {str(root / name)!r} has no "
                f"{', '.join(IMAGE_SUFFIXES)} files"
            )
        files += found
        labels += [k] * len(found)
    return tuple(classes), files, np.asarray(labels, dtype=np.int64)


def image_shape(shape: Sequence[int] | Mapping[str, Sequence[int]] | None) -> tuple[int, ...]:
    """The model's input shape as ``(H, W, C)`` with ``C`` 1, 3 or 4; ``DataError`` if not."""
    if isinstance(shape, Mapping):
        if len(shape) != 1:
            raise DataError(
                f"images: expected a model with one input, received inputs {list(shape)}"
            )
        (shape,) = shape.values()
    if shape is None or len(shape) != 3 or int(shape[-1]) not in _MODES:
        raise DataError(
            "images: expected a model input shape [height, width, channels] with 1 "
            f"(grayscale), 3 (RGB) or 4 (RGBA) channels, received {shape}"
        )
    return tuple(int(d) for d in shape)


class _ImageReader:
    """Decodes a source's files ``read(start, stop)`` or ``take(rows)``."""

    def __init__(self, source: ImageFolderSource) -> None:
        self.source = source
        self.image = require_pillow()

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        return self.take(np.arange(start, stop))

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        source = self.source
        h, w, c = source.sample_shape  # type: ignore[misc]
        x = np.empty((len(rows), h, w, c), dtype=np.float32)
        for i, row in enumerate(rows.tolist()):
            x[i] = self._decode(source.files[row], (h, w, c))
        return x, source.labels[rows] if source.has_labels else None

    def _decode(self, path: Path, shape: tuple[int, int, int]) -> np.ndarray:
        h, w, c = shape
        try:
            with self.image.open(path) as img:
                img = img.convert(_MODES[c])
                if img.size != (w, h):
                    img = img.resize((w, h), self.image.Resampling.BILINEAR)
                pixels = np.asarray(img, dtype=np.float32)
        except (OSError, ValueError) as exc:  # Pillow's UnidentifiedImageError is an OSError
            raise DataError(f"images: cannot read {str(path)!r} as an image: {exc}") from None
        return pixels.reshape(shape) / np.float32(255)

    def __enter__(self) -> _ImageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class ImageFolderSource(BatchSource):
    """The images of a class folder tree, decoded block by block (module docstring).

    Args:
        root: the folder holding one subfolder per class.
        shape: ``(H, W, C)``, the model's input shape.
        labels: give batches their class indices (False for prediction).
        seed: the fixed order of the files (classes interleaved).
        block_rows: images decoded at once while shuffling (a multiple of the batch size).

    Attributes:
        class_names: the class names; label ``k`` is ``class_names[k]``.
        files: every image file, in the source's row order.
        labels: every file's class index, in that order.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        shape: Sequence[int],
        *,
        labels: bool = True,
        seed: int = 0,
        block_rows: int = 256,
    ) -> None:
        require_pillow()
        self.root = Path(root)
        self.class_names, files, classes = scan_folder(self.root)
        order = np.random.default_rng(seed).permutation(len(files))
        self.files = [files[i] for i in order.tolist()]
        self.labels = classes[order]
        self.sample_shape = image_shape(shape)
        self.has_labels = labels
        self.block_rows = block_rows
        self.rows = len(self.files)
        super().__init__()

    def _open(self) -> _ImageReader:
        return _ImageReader(self)

    def select(self, rows: Sequence[int] | np.ndarray) -> ImageFolderSource:
        """The images at ``rows`` (relative to this source), in that order, as a new source
        (how a split takes its parts)."""
        index = np.arange(self.start, self.stop)[np.asarray(rows, dtype=np.int64)]
        clone = self._copy()
        assert isinstance(clone, ImageFolderSource)
        clone.files = [self.files[i] for i in index.tolist()]
        clone.labels = self.labels[index]
        clone.rows, clone.start, clone.stop = len(index), 0, len(index)
        return clone

    def __repr__(self) -> str:
        return f"ImageFolderSource({str(self.root)!r}, rows {self.start}:{self.stop})"


def held_out_rows_per_class(labels: np.ndarray, fraction: float) -> np.ndarray:
    """The last ``round(fraction * count)`` rows of each class (at least 1 when
    ``fraction`` > 0), sorted; ``DataError`` when a class would keep no training image."""
    held = []
    for k in np.unique(labels).tolist():
        rows = np.flatnonzero(labels == k)
        n = max(1, round(fraction * len(rows)))
        if n >= len(rows):
            raise DataError(
                f"images: test_split={fraction} leaves class {k} no training image out of "
                f"{len(rows)}; expected more images or a smaller test_split"
            )
        held.append(rows[-n:])
    return np.sort(np.concatenate(held))


def parse_images_source(text: str) -> tuple[Path, float, int]:
    """``images:PATH?test_split=F&seed=N`` -> (PATH, F, N)."""
    body = text[len(IMAGES_PREFIX) :]
    path, _, query = body.partition("?") if not Path(body).exists() else (body, "", "")
    test_split, seed = 0.0, 0
    for key, value in parse_qsl(query, keep_blank_values=True):
        try:
            if key == "test_split":
                test_split = float(value)
            elif key == "seed":
                seed = int(value)
            else:
                raise DataError(
                    f"unknown images option {key!r} in {text!r}; expected test_split=, seed="
                )
        except ValueError:
            raise DataError(f"images option {key}={value!r} in {text!r} is not a number") from None
    if not 0 <= test_split < 1:
        raise DataError(f"images: test_split must be in [0, 1), received {test_split}")
    return Path(path), test_split, seed


def load_images(
    source: str,
    shape: Sequence[int] | Mapping[str, Sequence[int]] | None,
    *,
    labels: bool = True,
) -> ImageDataset:
    """``images:PATH[?test_split=F&seed=N]`` for a model whose input shape is ``shape``
    (``[H, W, C]``, or a model's ``input_shapes``): the training images, and the held-out
    ones in ``x_test`` when ``test_split`` is given (module docstring)."""
    path, test_split, seed = parse_images_source(source)
    if not str(path):
        raise DataError(f"images: expected a folder after {IMAGES_PREFIX!r}, received {source!r}")
    images = ImageFolderSource(path, image_shape(shape), labels=labels, seed=seed)
    if not test_split:
        return ImageDataset(images, None, name=source, class_names=images.class_names)
    test = held_out_rows_per_class(images.labels, test_split)
    train = np.setdiff1d(np.arange(len(images)), test)
    return ImageDataset(
        images.select(train),
        None,
        images.select(test),
        None,
        name=source,
        class_names=images.class_names,
    )
