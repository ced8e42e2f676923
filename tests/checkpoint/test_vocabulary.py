"""``/data/vocabulary``: the characters of a model trained on text, saved and loaded with the
model; files without it load with no vocabulary; a malformed one is a CheckpointError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.format import VOCABULARY
from modular_nn.checkpoint.writer import write_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "format1"


def text_model() -> Any:
    return mnn.build_model(
        {
            "input_shape": [3],
            "layers": [
                {"type": "embedding", "input_dim": 6, "output_dim": 2},
                {"type": "flatten"},
                {"type": "dense", "units": 6, "activation": "softmax"},
            ],
            "loss": "sparse_categorical_crossentropy",
            "optimizer": "adam",
        }
    )


def test_the_vocabulary_round_trips_with_non_ascii_characters(tmp_path: Path) -> None:
    model = text_model()
    model.vocabulary = ["\n", " ", "é", "日", "🙂"]
    model.save(tmp_path / "lm.h5")
    loaded = mnn.load(tmp_path / "lm.h5")
    assert loaded.vocabulary == model.vocabulary
    loaded.save(tmp_path / "again.h5")  # and again
    assert mnn.load(tmp_path / "again.h5").vocabulary == model.vocabulary
    with h5py.File(tmp_path / "lm.h5", "r") as f:
        raw = bytes(f[VOCABULARY][()]).decode("utf-8")
    assert json.loads(raw) == model.vocabulary and "日" in raw  # readable UTF-8, not \\u escapes


def test_a_model_without_vocabulary_writes_no_data_group(tmp_path: Path) -> None:
    model = text_model()
    assert model.vocabulary is None
    model.save(tmp_path / "plain.h5")
    with h5py.File(tmp_path / "plain.h5", "r") as f:
        assert "data" not in f
    assert mnn.load(tmp_path / "plain.h5").vocabulary is None


@pytest.mark.parametrize("name", ["xor_sgd", "mlp_adam_bn_dropout", "cnn_rmsprop_f64"])
def test_format1_checkpoints_written_before_vocabularies_load(name: str) -> None:
    model = mnn.load(FIXTURES / f"{name}.h5")
    assert model.vocabulary is None and model.count_params() > 0


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ('{"a": 1}', "expected a JSON list of one-character strings"),
        ('["a", "bc"]', "expected a JSON list of one-character strings"),
        ('["a", 7]', "expected a JSON list of one-character strings"),
        ('["a", "b", "a", "b"]', r"lists characters more than once: 'a' \(U\+0061\), 'b'"),
        ("[", "is not valid JSON"),
    ],
)
def test_a_malformed_vocabulary_is_refused(tmp_path: Path, value: str, match: str) -> None:
    path = tmp_path / "bad.h5"
    model = text_model()
    model.vocabulary = ["a"]
    model.save(path)
    with h5py.File(path, "r+") as f:
        del f[VOCABULARY]
        write_text(f, VOCABULARY, value)  # with a correct checksum: only the content is wrong
    with pytest.raises(mnn.CheckpointError, match=match):
        mnn.load(path)


def test_inspect_shows_the_vocabulary(tmp_path: Path) -> None:
    from modular_nn.checkpoint.inspection import describe_checkpoint

    model = text_model()
    model.save(tmp_path / "plain.h5")
    assert "vocabulary" not in describe_checkpoint(tmp_path / "plain.h5")
    model.vocabulary = ["\n", " ", "a", "é"]
    model.save(tmp_path / "lm.h5")
    assert (
        'vocabulary: 4 characters "\\n aé"' in describe_checkpoint(tmp_path / "lm.h5").splitlines()
    )
