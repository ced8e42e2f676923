"""Sampling text from a character-level language model trained on ``text:PATH``.

::

    model = mnn.load("char_lm.h5")
    generate(model, "def ", length=200, temperature=0.8, seed=1)   # 200 new characters

The prompt is encoded with the model's vocabulary (``model.vocabulary``, stored
in its checkpoint; a character outside it is a ``DataError`` naming it), then
cropped to its last ``T`` characters or padded on the left with the padding id 0
to the model's window ``[T]``. Each step predicts the next character's
probabilities (a softmax output, or logits when the loss has ``from_logits``),
keeps the vocabulary's ids ``1..V`` (never padding, nor output units beyond the
vocabulary), samples one with temperature, appends it and slides the window:

    p_i ∝ exp(log(q_i) / temperature)

Temperature 1 samples the model's own distribution, below 1 sharpens it, above 1
flattens it, and 0 takes the most probable character (greedy; no randomness).
The same ``seed`` gives the same text.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modular_nn.data.text import PAD_ID, check_output, encode, window_length
from modular_nn.errors import DataError


def generate(
    model: Any,
    prompt: str,
    length: int,
    *,
    temperature: float = 1.0,
    seed: int | None = 0,
) -> str:
    """The ``length`` characters ``model`` writes after ``prompt`` (the prompt not included).

    Raises ``DataError`` for a model without a vocabulary (not trained on text), a
    prompt character outside its vocabulary, a negative or non-finite temperature,
    or a length that is not a non-negative integer.
    """
    vocabulary = _vocabulary(model)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise DataError(f"expected a non-negative integer length, received: {length!r}")
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.floating, np.integer))
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise DataError(
            "expected a temperature >= 0 (0 is greedy, 1 the model's own distribution), "
            f"received: {temperature!r}"
        )
    window = window_length(model.input_shapes)
    check_output(model.output_shapes, vocabulary)
    ids = encode(prompt, vocabulary, what="the prompt")[-window:] if prompt else []
    context = np.full((1, window), PAD_ID, dtype=np.int64)
    if len(ids):
        context[0, -len(ids) :] = ids
    logits = _from_logits(model)
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for _ in range(length):
        out = np.asarray(model.predict(context), dtype=np.float64)[0]
        scores = out[1 : len(vocabulary) + 1]  # ids 1..V: no padding, no unused units
        if not logits:
            with np.errstate(divide="ignore"):
                scores = np.log(scores)
        k = _sample(scores, temperature, rng)
        chosen.append(vocabulary[k])
        context[0, :-1] = context[0, 1:]
        context[0, -1] = k + 1
    return "".join(chosen)


def _vocabulary(model: Any) -> list[str]:
    vocabulary = getattr(model, "vocabulary", None)
    if not vocabulary:
        raise DataError(
            f"this model was not trained on text: model {getattr(model, 'name', '?')!r} has no "
            "vocabulary (its checkpoint has no /data/vocabulary); train a model with "
            "--data text:PATH to generate text"
        )
    return list(vocabulary)


def _from_logits(model: Any) -> bool:
    """Whether the model's output is logits (its loss has ``from_logits``), not probabilities."""
    heads = getattr(getattr(model, "heads", None), "heads", [])
    return bool(heads) and bool(getattr(heads[0].loss.config, "from_logits", False))


def _sample(scores: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """An index drawn with probabilities ``softmax(scores / temperature)``; the argmax
    when ``temperature`` is 0. ``scores`` are log-probabilities or logits."""
    finite = np.isfinite(scores)
    if not finite.any():
        raise DataError(
            "the model gives no character a positive probability (its outputs are 0 or not "
            "finite): it cannot generate text"
        )
    if temperature == 0:
        return int(np.argmax(np.where(finite, scores, -np.inf)))
    z = np.where(finite, scores / temperature, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    cdf = np.cumsum(p)
    # the first index whose cumulative probability exceeds u: never one of probability 0
    return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
