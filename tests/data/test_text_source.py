"""The text:PATH source: (window, next character) pairs, vocabulary, held-out split, UTF-8,
and the errors for files it cannot use."""

from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_data
from modular_nn.data.text import TextDataset, decode, encode, load_text


def write(tmp_path: Path, text: str, name: str = "corpus.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_windows_and_their_next_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "abcabd")
    ds = load_text(f"text:{path}", [3])
    assert isinstance(ds, TextDataset) and ds.vocabulary == ("a", "b", "c", "d")
    # ids: a=1, b=2, c=3, d=4 (0 is padding)
    np.testing.assert_array_equal(ds.x_train, [[1, 2, 3], [2, 3, 1], [3, 1, 2]])
    np.testing.assert_array_equal(ds.y_train, [1, 2, 4])
    assert ds.x_train.dtype == np.int64 and ds.y_train.dtype == np.int64
    assert not ds.has_test  # 3 pairs: a tenth of them is none
    for window, target in zip(ds.x_train, ds.y_train):
        assert decode(window, ds.vocabulary) + decode([target], ds.vocabulary) in "abcabd"


def test_the_last_tenth_of_the_pairs_is_held_out(tmp_path: Path) -> None:
    text = "".join(chr(ord("a") + i % 7) for i in range(105))
    ds = load_text(f"text:{write(tmp_path, text)}", [5])
    assert len(ds.y_train) == 90 and len(ds.y_test) == 10  # 100 pairs
    # the held-out targets are the last 10 characters, each after its 5 predecessors
    assert decode(ds.y_test, ds.vocabulary) == text[-10:]
    assert decode(ds.x_test[-1], ds.vocabulary) == text[-6:-1]
    assert decode(ds.y_train, ds.vocabulary) == text[5:95]
    assert ds.has_test and ds.held_out()[0] is ds.x_test


def test_vocabulary_holds_every_character_sorted_including_non_ascii(tmp_path: Path) -> None:
    text = "naïve café — 日本\tdone\n"
    ds = load_text(f"text:{write(tmp_path, text)}", [4])
    assert ds.vocabulary == tuple(sorted(set(text)))
    assert "é" in ds.vocabulary and "日" in ds.vocabulary and "\t" in ds.vocabulary
    ids = encode(text, ds.vocabulary)
    assert decode(ids, ds.vocabulary) == text
    assert ids.min() == 1 and ids.max() == len(ds.vocabulary)


def test_line_endings_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "dos.txt"
    path.write_bytes("\ufeffab\r\ncd\r\n".encode())
    ds = load_text(f"text:{path}", [2])
    assert ds.vocabulary == ("\n", "a", "b", "c", "d")
    assert decode(np.append(ds.x_train[0], ds.y_train), ds.vocabulary) == "ab\ncd\n"


def test_a_given_vocabulary_encodes_and_names_what_it_lacks(tmp_path: Path) -> None:
    path = write(tmp_path, "abba")
    ds = load_text(f"text:{path}", [2], vocabulary=["a", "b", "c"])
    assert ds.vocabulary == ("a", "b", "c")
    np.testing.assert_array_equal(ds.y_train, [2, 1])
    with pytest.raises(
        mnn.DataError, match=r"outside the model's vocabulary of 1: 'b' \(U\+0062\)"
    ):
        load_text(f"text:{path}", [2], vocabulary=["a"])


def test_relative_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "hello world")
    monkeypatch.chdir(tmp_path)
    ds = load_data("text:corpus.txt", input_shape=[4])  # load_data knows text: too
    assert isinstance(ds, TextDataset) and ds.name == "text:corpus.txt"
    assert len(ds.y_train) == 7
    named = load_data("text:corpus.txt", inputs={"chars": [4]}, outputs=["next"])
    np.testing.assert_array_equal(named.x_train, ds.x_train)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (
            b"abc",
            "too short: it has 3 characters, but a window of 3 and its next character need "
            "at least 4",
        ),
        (b"ab\xffcd", r"not UTF-8 text: byte 2 is b'\\xff'"),
    ],
)
def test_files_it_cannot_use(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(mnn.DataError, match=match):
        load_text(f"text:{path}", [3])


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(mnn.DataError, match="text file not found: .*nope.txt"):
        load_text(f"text:{tmp_path / 'nope.txt'}", [3])
    with pytest.raises(mnn.DataError, match="expected a file, received a directory"):
        load_text(f"text:{tmp_path}", [3])


def test_models_it_does_not_fit(tmp_path: Path) -> None:
    path = write(tmp_path, "abcdefabcdef")
    with pytest.raises(
        mnn.DataError, match=r"expected a model input shape \[T\].*received \[3, 1\]"
    ):
        load_text(f"text:{path}", [3, 1])
    with pytest.raises(mnn.DataError, match="has inputs 'a', 'b'"):
        load_text(f"text:{path}", {"a": [3], "b": [3]})
    with pytest.raises(mnn.DataError, match="expected an output of at least 7 units, received 6"):
        load_text(f"text:{path}", [3], output_shape=(6,))
    with pytest.raises(mnn.DataError, match=r"expected a model output of shape \(7,\)"):
        load_text(f"text:{path}", [3], output_shape=(3, 7))
    with pytest.raises(mnn.DataError, match="has outputs 'x', 'y'"):
        load_text(f"text:{path}", [3], output_shape={"x": (7,), "y": (7,)})
    ds = load_text(f"text:{path}", [3], output_shape={"next": (10,)})  # spare units are fine
    assert len(ds.vocabulary) == 6


def test_a_plain_text_file_is_refused_with_a_pointer_to_text_sources(tmp_path: Path) -> None:
    with pytest.raises(mnn.DataError, match="or text:PATH"):
        load_data(str(write(tmp_path, "abc")))


def test_a_model_fits_text_pairs(tmp_path: Path) -> None:
    text = "abcd" * 40
    ds = load_text(f"text:{write(tmp_path, text)}", [4])
    model = mnn.build_model(
        {
            "input_shape": [4],
            "layers": [
                {"type": "embedding", "input_dim": 5, "output_dim": 4},
                {"type": "flatten"},
                {"type": "dense", "units": 5, "activation": "softmax"},
            ],
            "loss": "sparse_categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.05},
        }
    )
    model.fit(ds.x_train, ds.y_train, epochs=20, batch_size=16, verbose=0, validation_split=0.1)
    assert model.evaluate(ds.x_test, ds.y_test)["accuracy"] == 1.0  # a periodic text


def test_prediction_keeps_every_pair(tmp_path: Path) -> None:
    text = "abcdefghij" * 3
    ds = load_text(f"text:{write(tmp_path, text)}", [5], held_out=False)
    assert len(ds.y_train) == 25 and not ds.has_test
