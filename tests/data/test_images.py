"""images:PATH: class folders of PNG/JPEG files, decoded batch by batch (Pillow)."""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.data import load_data, load_inputs
from modular_nn.data.images import ImageDataset, ImageFolderSource, load_images
from modular_nn.errors import DataError

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ("bar", "disc", "square")  # sorted: classes 0, 1, 2


def _draw(kind: str, rng: np.random.Generator, size: tuple[int, int]) -> Any:
    """A white shape at a random place on black, ``size`` (width, height)."""
    w, h = size
    img = Image.new("RGB", size, (0, 0, 0))
    draw = ImageDraw.Draw(img)
    x, y = int(rng.integers(1, w // 3)), int(rng.integers(1, h // 3))
    s = int(rng.integers(w // 2, w - x))
    color = tuple(int(c) for c in rng.integers(180, 256, 3))
    if kind == "bar":
        draw.rectangle([1, y, w - 2, y + 2], fill=color)
    elif kind == "disc":
        draw.ellipse([x, y, x + s - 1, y + s - 1], fill=color)
    else:
        draw.rectangle([x, y, x + s - 1, y + s - 1], outline=color, width=2)
    return img


def make_folder(root: Path, per_class: int = 12, seed: int = 0) -> Path:
    """``root/<shape>/`` with ``per_class`` images each: PNGs, and JPEGs for squares,
    of several sizes (resized on reading)."""
    rng = np.random.default_rng(seed)
    for kind in SHAPES:
        (root / kind).mkdir(parents=True)
        for i in range(per_class):
            size = (16, 16) if i % 2 else (20, 14)
            suffix = ".jpg" if kind == "square" and i % 3 == 0 else ".png"
            _draw(kind, rng, size).save(root / kind / f"{i:03d}{suffix}")
    (root / "notes.txt").write_text("not a class folder")
    (root / "disc" / "readme.md").write_text("not an image")
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "shapes")


def test_classes_are_sorted_folder_names_and_every_image_is_a_row(folder: Path) -> None:
    source = ImageFolderSource(folder, (8, 8, 1))
    assert source.class_names == ("bar", "disc", "square")
    assert len(source) == 36 and source.sample_shape == (8, 8, 1)
    for path, label in zip(source.files, source.labels.tolist()):
        assert path.parent.name == SHAPES[label]
    assert np.bincount(source.labels).tolist() == [12, 12, 12]
    assert len(set(source.labels[:6].tolist())) > 1  # the fixed order interleaves classes


def test_batches_are_resized_scaled_float32_with_labels(folder: Path) -> None:
    source = ImageFolderSource(folder, (8, 8, 3))
    seen = []
    for x, y in source.batches(10):
        assert x.dtype == np.float32 and x.shape[1:] == (8, 8, 3)
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
        seen += y.tolist()
    assert seen == source.labels.tolist()


def test_resizing_and_channels(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:, :8] = (255, 0, 0)  # the left half red
    Image.fromarray(pixels, "RGB").save(tmp_path / "a" / "half.png")
    rgb = next(ImageFolderSource(tmp_path, (4, 4, 3)).batches(1))[0][0]
    # bilinear with Pillow's antialiasing: the outer columns keep their colour exactly
    np.testing.assert_allclose(rgb[:, 0], np.broadcast_to([1.0, 0.0, 0.0], (4, 3)))
    np.testing.assert_allclose(rgb[:, 3], 0.0)
    np.testing.assert_allclose(rgb[..., 1:], 0.0)
    assert np.all(rgb[:, 1, 0] > rgb[:, 2, 0])
    gray = next(ImageFolderSource(tmp_path, (4, 4, 1)).batches(1))[0][0, :, :, 0]
    np.testing.assert_allclose(gray[:, 0], 76 / 255)  # Pillow's L = 0.299 R (ITU-R 601-2)
    np.testing.assert_allclose(gray[:, 3], 0.0)


def test_streams_block_by_block_never_the_whole_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modular_nn.data import images

    decoded: list[int] = []
    take = images._ImageReader.take

    def counting(self: Any, rows: np.ndarray) -> Any:
        decoded.append(len(rows))
        return take(self, rows)

    monkeypatch.setattr(images._ImageReader, "take", counting)
    source = ImageFolderSource(folder, (8, 8, 1), block_rows=8)
    rows = [len(y) for _, y in source.batches(4, np.random.default_rng(0))]
    assert sum(rows) == 36 and max(decoded) == 8 and sum(decoded) == 36


def test_shuffling_is_reproducible_and_covers_every_image_once(folder: Path) -> None:
    source = ImageFolderSource(folder, (8, 8, 1), block_rows=8)

    def epoch(seed: int) -> list[int]:
        return [
            int(i)
            for x, _ in source.batches(4, np.random.default_rng(seed))
            for i in np.round(x.sum(axis=(1, 2, 3)) * 1e4)
        ]

    plain = [int(i) for x, _ in source.batches(4) for i in np.round(x.sum(axis=(1, 2, 3)) * 1e4)]
    assert epoch(1) == epoch(1) and epoch(1) != plain
    assert sorted(epoch(1)) == sorted(plain)


def test_test_split_holds_out_each_class_share(folder: Path) -> None:
    ds = load_images(f"images:{folder}?test_split=0.25&seed=3", [8, 8, 1])
    assert isinstance(ds, ImageDataset) and ds.class_names == SHAPES
    train, test = ds.x_train, ds.x_test
    assert isinstance(train, ImageFolderSource) and isinstance(test, ImageFolderSource)
    assert np.bincount(test.labels).tolist() == [3, 3, 3]
    assert len(train) == 27 and not set(train.files) & set(test.files)
    assert ds.y_train is None and ds.y_test is None  # the sources carry their labels
    again = load_images(f"images:{folder}?test_split=0.25&seed=3", [8, 8, 1])
    assert again.x_test.files == test.files  # type: ignore[union-attr]


def test_load_data_and_load_inputs_dispatch_images(folder: Path) -> None:
    ds = load_data(f"images:{folder}", inputs={"input": [8, 8, 1]}, outputs=["dense_1"])
    assert isinstance(ds.x_train, ImageFolderSource) and ds.x_train.has_labels
    inputs = load_inputs(f"images:{folder}", input_shape=[6, 6, 3])
    assert isinstance(inputs, ImageFolderSource) and not inputs.has_labels
    x, y = next(inputs.batches(5))
    assert x.shape == (5, 6, 6, 3) and y is None


@pytest.mark.parametrize(
    ("make", "source", "shape", "message"),
    [
        (None, "images:{root}/missing", [8, 8, 1], "folder not found"),
        ("empty", "images:{root}", [8, 8, 1], "has no class folders"),
        ("empty_class", "images:{root}", [8, 8, 1], "has no .png, .jpg, .jpeg files"),
        ("ok", "images:{root}", [8, 8], r"\[height, width, channels\]"),
        ("ok", "images:{root}", [8, 8, 2], "1 \\(grayscale\\), 3 \\(RGB\\)"),
        ("ok", "images:{root}?split=0.1", [8, 8, 1], "unknown images option 'split'"),
        ("ok", "images:{root}?test_split=1.5", [8, 8, 1], r"test_split must be in \[0, 1\)"),
        ("ok", "images:{root}?test_split=0.9", [8, 8, 1], "leaves class 0 no training image"),
    ],
)
def test_errors_say_what_was_expected(
    tmp_path: Path, make: str | None, source: str, shape: list[int], message: str
) -> None:
    root = tmp_path / "imgs"
    if make == "empty":
        root.mkdir()
    elif make == "empty_class":
        (root / "a").mkdir(parents=True)
    elif make == "ok":
        make_folder(root, per_class=2)
    with pytest.raises(DataError, match=message):
        load_images(source.format(root=root), shape)


def test_an_unreadable_image_is_named(folder: Path) -> None:
    bad = folder / "disc" / "broken.png"
    bad.write_bytes(b"not a png at all")
    source = ImageFolderSource(folder, (8, 8, 1))
    with pytest.raises(DataError, match="cannot read .*broken.png.* as an image"):
        for _ in source.batches(8):
            pass


def test_without_pillow_the_error_names_the_extra(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_pil(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(DataError, match=re.escape("pip install 'modular-nn[images]'")):
        load_data(f"images:{folder}", input_shape=[8, 8, 1])


def _tiny_cnn(tmp_path: Path) -> Path:
    spec = {
        "name": "shapes",
        "input_shape": [10, 10, 1],
        "seed": 1,
        "layers": [
            {"type": "conv2d", "filters": 6, "kernel_size": 3, "activation": "relu"},
            {"type": "max_pool2d", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 3, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.02},
        "training": {"epochs": 25, "batch_size": 8},
    }
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(spec))
    return path


def test_the_cli_trains_a_conv_model_from_the_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "shapes", per_class=30, seed=5)
    source = f"images:{folder}?test_split=0.2"
    out = tmp_path / "shapes.h5"
    spec = _tiny_cnn(tmp_path)
    assert main(["train", str(spec), "--data", source, "--out", str(out), "-q"]) == 0
    model = mnn.load(out)
    test = load_images(source, model.input_shapes).x_test
    assert len(test) == 18  # type: ignore[arg-type]
    assert model.evaluate(test)["accuracy"] >= 0.9


@pytest.mark.slow
def test_the_docs_digits_written_as_png_train_back_from_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (ROOT / "docs" / "images.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    spec = re.search(r"```json\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    command = re.search(r"```sh\n(.*?)\n```", doc, re.S).group(1)  # type: ignore[union-attr]
    monkeypatch.chdir(tmp_path)
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    assert sorted(p.name for p in (tmp_path / "digits_png").iterdir()) == [
        str(d) for d in range(10)
    ]
    assert len(list((tmp_path / "digits_png").glob("*/*.png"))) == 1797
    (tmp_path / "digits_images.json").write_text(spec)
    words = command.split()
    assert words[:2] == ["modular-nn", "train"]
    args = [w.strip('"') for w in words[2:]]
    assert main(["train", *args, "-q"]) == 0
    model = mnn.load(tmp_path / "digits_images.h5")
    test = load_images(args[args.index("--data") + 1], model.input_shapes).x_test
    assert model.evaluate(test)["accuracy"] >= 0.93
