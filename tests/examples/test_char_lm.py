"""examples/char_lm.json: an LSTM language model for ``text:`` data, trained on a small
Python text through the command line, then ``modular-nn generate`` (as in the README)."""

from __future__ import annotations

import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.data.text import load_text

#: a small Python text: its 3 functions repeated, so that a brief training learns it
SOURCE = (
    '''def wrap(text, width=70):
    """Wrap a single paragraph of text."""
    return [line for line in text.split("\\n") if line]


def indent(text, prefix):
    return "".join(prefix + line for line in text.splitlines(True))


def dedent(text):
    lines = text.splitlines()
    return "\\n".join(line.strip() for line in lines)


'''
    * 6
)


def test_char_lm_is_an_embedding_an_lstm_and_a_softmax_over_the_vocabulary(
    example: Callable[[str], Path],
) -> None:
    spec = mnn.load_spec(example("char_lm"))
    assert [layer.type for layer in spec.layers] == ["embedding", "lstm", "dense"]
    embedding, _, output = spec.layers
    assert embedding.mask_zero  # id 0 pads a short prompt on the left
    # the README trains it on textwrap.py: its characters fit (ids 1..V, 0 is padding)
    textwrap = Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py"
    vocabulary = load_text(f"text:{textwrap}", input_shape=spec.input_shape).vocabulary
    assert len(vocabulary) + 1 <= embedding.input_dim == output.units
    assert output.activation["type"] == "softmax"


@pytest.mark.slow
def test_char_lm_trains_on_text_and_generates_the_same_text_for_a_seed(
    example: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, ckpt = tmp_path / "corpus.py", tmp_path / "lm.h5"
    corpus.write_text(SOURCE)
    args = ["train", str(example("char_lm")), "--data", f"text:{corpus}"]
    assert main([*args, "--epochs", "12", "--out", str(ckpt), "--quiet"]) == 0
    model = mnn.load(ckpt)
    assert list(model.vocabulary) == sorted(set(SOURCE))  # stored in the checkpoint
    ds = load_text(f"text:{corpus}", input_shape=model.input_shape, vocabulary=model.vocabulary)
    assert model.evaluate(ds.x_train, ds.y_train)["accuracy"] >= 0.6  # it learnt the text
    capsys.readouterr()

    def generate(seed: str) -> str:
        options = ["--length", "80", "--temperature", "0.8", "--seed", seed]
        assert main(["generate", str(ckpt), "--prompt", "def ", *options]) == 0
        return capsys.readouterr().out

    first = generate("1")
    assert first == generate("1")  # the same seed, the same text
    assert first.startswith("def ") and len(first.rstrip("\n")) >= len("def ") + 80 - 2
    assert set(first) <= set(SOURCE) | {"\n"}
    assert generate("2") != first  # another seed, other text
