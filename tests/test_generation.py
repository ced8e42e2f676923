"""``modular_nn.generation.generate``: prompts padded and cropped to the window, greedy and
temperature sampling over the vocabulary's ids only, logits, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data.text import encode
from modular_nn.generation import _sample, generate

VOCABULARY = ["a", "b", "c", "é"]


def model(units: int = 6, **changes: Any) -> Any:
    spec = {
        "input_shape": [3],
        "seed": 4,
        "layers": [
            {"type": "embedding", "input_dim": 5, "output_dim": 3},
            {"type": "flatten"},
            {"type": "dense", "units": units, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
        "optimizer": "adam",
        **changes,
    }
    built = mnn.build_model(spec)
    built.vocabulary = list(VOCABULARY)
    return built


def greedy_by_hand(m: Any, prompt: str, length: int) -> str:
    ids = [0, 0, 0, *encode(prompt, VOCABULARY)]
    for _ in range(length):
        out = m.predict(np.array([ids[-3:]]))[0]
        ids.append(1 + int(np.argmax(out[1:5])))  # ids 1..4: not padding, not unit 5
    return "".join(VOCABULARY[i - 1] for i in ids[3 + len(prompt) :])


def test_greedy_follows_the_most_probable_vocabulary_id() -> None:
    m = model()
    assert generate(m, "a", 12, temperature=0) == greedy_by_hand(m, "a", 12)
    assert generate(m, "", 5, temperature=0) == greedy_by_hand(m, "", 5)  # all padding


def test_a_long_prompt_is_cropped_to_the_window() -> None:
    m = model()
    long = "abcéabcéb"
    assert generate(m, long, 20, seed=3) == generate(m, long[-3:], 20, seed=3)


def test_sampling_is_reproducible_and_stays_in_the_vocabulary() -> None:
    m = model()
    first = generate(m, "ab", 50, temperature=1.5, seed=11)
    assert first == generate(m, "ab", 50, temperature=1.5, seed=11)
    assert first != generate(m, "ab", 50, temperature=1.5, seed=12)
    assert len(first) == 50 and set(first) <= set(VOCABULARY)
    assert generate(m, "ab", 0) == ""


def test_logits_outputs_are_sampled_as_logits() -> None:
    m = model(
        layers=[
            {"type": "embedding", "input_dim": 5, "output_dim": 3},
            {"type": "flatten"},
            {"type": "dense", "units": 5},
        ],
        loss={"type": "sparse_categorical_crossentropy", "from_logits": True},
    )
    # negative logits are fine; the greedy choice is the largest logit of ids 1..4
    assert generate(m, "c", 8, temperature=0) == greedy_by_hand(m, "c", 8)
    assert len(generate(m, "c", 8, temperature=0.5)) == 8


def test_sampling_follows_the_tempered_distribution() -> None:
    rng = np.random.default_rng(0)
    log_p = np.array([np.log(0.6), np.log(0.3), np.log(0.1), -np.inf])
    draws = np.array([_sample(log_p, 1.0, rng) for _ in range(4000)])
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq[:3], [0.6, 0.3, 0.1], atol=0.03)
    assert freq[3] == 0  # probability 0 is never drawn
    cold = np.array([_sample(log_p, 0.25, rng) for _ in range(2000)])
    # temperature 1/4: p ∝ p^4, 0.6^4 / (0.6^4 + 0.3^4 + 0.1^4) ≈ 0.94
    assert 0.91 < np.mean(cold == 0) < 0.97


def test_errors_say_what_was_expected() -> None:
    m = model()
    with pytest.raises(
        mnn.DataError, match=r"outside the model's vocabulary of 4: 'x' \(U\+0078\)"
    ):
        generate(m, "axa", 3)
    for bad in (-1.0, float("nan"), float("inf"), "1"):
        with pytest.raises(mnn.DataError, match="expected a temperature >= 0"):
            generate(m, "a", 3, temperature=bad)  # type: ignore[arg-type]
    for length in (-1, 2.5, True):
        with pytest.raises(mnn.DataError, match="expected a non-negative integer length"):
            generate(m, "a", length)  # type: ignore[arg-type]
    m.vocabulary = None
    with pytest.raises(mnn.DataError, match="this model was not trained on text"):
        generate(m, "a", 3)
    small = model(units=4)  # ids 0..4 need 5 units
    with pytest.raises(mnn.DataError, match="expected an output of at least 5 units, received 4"):
        generate(small, "a", 3)
