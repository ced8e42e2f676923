"""``modular-nn train --data text:PATH`` then ``modular-nn generate``: a character-level
language model trained through the command line, its vocabulary in the checkpoint, and
sampling that is the same for the same seed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from tests.cli.conftest import _run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "format1"
TEXT = "the cat sat on the mat. the dog sat on the log. café naïve!\n" * 12
WINDOW = 6

Cli = Callable[..., subprocess.CompletedProcess[str]]


def char_lm_spec() -> dict[str, Any]:
    """An embedding and an LSTM over windows of 6 ids, softmax over 24 classes (the text
    has 21 characters: ids 1-21, 0 is padding; spare units are allowed)."""
    recurrent = (
        {"type": "lstm", "units": 16}
        if "lstm" in mnn.available("layers")
        else {"type": "flatten"}  # before the LSTM existed
    )
    return {
        "name": "char_lm",
        "input_shape": [WINDOW],
        "seed": 3,
        "layers": [
            {"type": "embedding", "input_dim": 24, "output_dim": 8},
            recurrent,
            {"type": "dense", "units": 24, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.02},
        "training": {"epochs": 3, "batch_size": 64},
        "data": "text:corpus.txt",
    }


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A text model trained by ``modular-nn train`` (the spec's relative text: path is
    found from the working directory), and the train command's result."""
    folder = tmp_path_factory.mktemp("char_lm")
    (folder / "corpus.txt").write_text(TEXT, encoding="utf-8")
    (folder / "lm.json").write_text(json.dumps(char_lm_spec()), encoding="utf-8")
    result = _run("train", "lm.json", "--out", "lm.h5", "--quiet", cwd=folder)
    return folder / "lm.h5", result


@pytest.fixture
def ckpt(trained: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    path, result = trained
    assert result.returncode == 0, result.stderr
    return path


def generate(cli: Cli, ckpt: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("generate", str(ckpt), *args)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``modular-nn ARGS`` run in this process (faster than a subprocess): exit code,
    stdout and stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_on_text_stores_the_vocabulary(
    trained: tuple[Path, subprocess.CompletedProcess[str]], ckpt: Path
) -> None:
    result = trained[1]
    vocabulary = sorted(set(TEXT))
    assert f"vocabulary: {len(vocabulary)} characters" in result.stdout
    assert "held-out samples" in result.stdout  # the last tenth of the pairs
    with h5py.File(ckpt, "r") as f:
        stored = json.loads(bytes(f["data/vocabulary"][()]).decode("utf-8"))
        assert "sha256" in f["data/vocabulary"].attrs
    assert stored == vocabulary
    assert mnn.load(ckpt).vocabulary == vocabulary


def test_the_same_seed_gives_the_same_text(cli: Cli, ckpt: Path) -> None:
    args = ("--prompt", "the ", "--length", "60", "--temperature", "1.0")
    first = generate(cli, ckpt, *args, "--seed", "5")
    again = generate(cli, ckpt, *args, "--seed", "5")
    other = generate(cli, ckpt, *args, "--seed", "6")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert other.stdout != first.stdout


def test_greedy_ignores_the_seed(capsys: pytest.CaptureFixture[str], ckpt: Path) -> None:
    args = ("generate", str(ckpt), "--prompt", "the cat", "--length", "30", "--temperature", "0")
    one, two = in_process(capsys, *args, "--seed", "1"), in_process(capsys, *args, "--seed", "2")
    assert one[0] == 0, one[2]
    assert one == two and len(one[1]) == len("the cat") + 30 + 1


def test_prints_the_prompt_and_exactly_length_characters(
    capsys: pytest.CaptureFixture[str], ckpt: Path
) -> None:
    code, out, err = in_process(
        capsys, "generate", str(ckpt), "--prompt", "café", "--length", "45", "--temperature", "0.7"
    )
    assert code == 0, err
    text = out[:-1]  # the final newline
    assert text.startswith("café") and len(text) == len("café") + 45
    assert set(text) <= set(TEXT)


def test_an_empty_prompt_starts_from_padding(
    capsys: pytest.CaptureFixture[str], ckpt: Path
) -> None:
    code, out, err = in_process(capsys, "generate", str(ckpt), "--length", "10")
    assert code == 0, err
    assert len(out[:-1]) == 10 and set(out[:-1]) <= set(TEXT)


def test_prompt_characters_outside_the_vocabulary_are_named(
    capsys: pytest.CaptureFixture[str], ckpt: Path
) -> None:
    code, out, err = in_process(capsys, "generate", str(ckpt), "--prompt", "the QUIZ")
    assert code == 1 and out == ""
    assert "the prompt has 4 character(s) outside the model's vocabulary" in err
    assert "'Q' (U+0051)" in err and "'Z' (U+005A)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "-0.5"], "expected a temperature >= 0"),
        (["--temperature", "hot"], "expected a temperature >= 0"),
        (["--temperature", "nan"], "expected a temperature >= 0"),
        (["--length", "0"], "expected a positive integer, received: 0"),
        (["--length", "many"], "expected a positive integer, received: 'many'"),
    ],
)
def test_bad_temperature_or_length(
    capsys: pytest.CaptureFixture[str], ckpt: Path, args: list[str], message: str
) -> None:
    code, out, err = in_process(capsys, "generate", str(ckpt), "--prompt", "the", *args)
    assert code == 2 and message in err and out == ""


def test_a_model_not_trained_on_text_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # a format-1 checkpoint written before vocabularies existed
    code, _, err = in_process(capsys, "generate", str(FIXTURES / "xor_sgd.h5"), "--prompt", "a")
    assert code == 1
    assert "this model was not trained on text" in err and "text:PATH" in err


def test_a_missing_checkpoint_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = in_process(capsys, "generate", str(tmp_path / "none.h5"), "--prompt", "a")
    assert code == 1
    assert err.strip() == f"error: checkpoint file not found: {str(tmp_path / 'none.h5')!r}"


def test_resume_and_evaluate_encode_with_the_stored_vocabulary(
    cli: Cli, ckpt: Path, tmp_path: Path
) -> None:
    # a text with fewer distinct characters would give other ids if it made its own vocabulary
    (tmp_path / "small.txt").write_text("the cat sat on the mat.\n" * 5, encoding="utf-8")
    resumed = tmp_path / "more.h5"
    result = cli(
        "train", "--resume", str(ckpt), "--epochs", "4", "--out", str(resumed),
        "--data", f"text:{tmp_path / 'small.txt'}", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert mnn.load(resumed).vocabulary == sorted(set(TEXT))
    (tmp_path / "other.txt").write_text("THE CAT SAT", encoding="utf-8")
    result = cli("evaluate", str(ckpt), "--data", f"text:{tmp_path / 'other.txt'}")
    assert result.returncode == 1
    assert "outside the model's vocabulary" in result.stderr and "'T' (U+0054)" in result.stderr
    result = cli("evaluate", str(ckpt), "--data", f"text:{tmp_path / 'small.txt'}")
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout


def test_a_spec_whose_output_is_too_small_for_the_text(cli: Cli, tmp_path: Path) -> None:
    spec = char_lm_spec()
    spec["layers"][-1]["units"] = 10
    (tmp_path / "corpus.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "small.json").write_text(json.dumps(spec), encoding="utf-8")
    result = cli("train", "small.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        f"expected an output of at least {len(set(TEXT)) + 1} units, received 10" in result.stderr
    )
    assert not (tmp_path / "small.h5").exists()


def test_predict_reads_every_window_of_a_text_in_the_model_ids(
    capsys: pytest.CaptureFixture[str], ckpt: Path, tmp_path: Path
) -> None:
    (tmp_path / "few.txt").write_text("mat the cat", encoding="utf-8")  # 11 characters
    out = tmp_path / "p.npy"
    code, stdout, err = in_process(
        capsys,
        "predict",
        str(ckpt),
        "--input",
        f"text:{tmp_path / 'few.txt'}",
        "--output",
        str(out),
    )
    assert code == 0, err
    assert "wrote 5 predictions of shape (24,)" in stdout  # 11 - 6 windows, none held out
    model = mnn.load(ckpt)
    vocabulary = sorted(set(TEXT))
    ids = np.array([[vocabulary.index(c) + 1 for c in "mat th"]])  # ids of the model's own
    np.testing.assert_allclose(np.load(out)[0], model.predict(ids)[0], rtol=1e-6)
