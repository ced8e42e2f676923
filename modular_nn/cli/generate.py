"""``modular-nn generate CKPT --prompt TEXT --length N --temperature T [--seed S]``: text
from a character-level language model trained with ``--data text:PATH``.

Prints the prompt followed by ``N`` sampled characters. The prompt is encoded
with the vocabulary stored in the checkpoint (a character outside it is an
error naming it), padded or cropped to the model's window; temperature 0 is
greedy, and the same seed gives the same text (``modular_nn.generation``).
"""

from __future__ import annotations

import argparse
import math
import sys

from modular_nn.cli.data_options import positive_int


def temperature(text: str) -> float:
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a temperature >= 0 (0 is greedy, 1 the model's own distribution), "
            f"received: {text!r}"
        )
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="sample text from a model trained on text:PATH",
        description="Print PROMPT followed by N characters sampled from a character-level "
        "language model (trained with --data text:PATH, which stores its vocabulary in the "
        "checkpoint).",
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint of a model trained on text")
    parser.add_argument(
        "--prompt",
        default="",
        metavar="TEXT",
        help="text to continue (default: none, a window of padding); its characters must be "
        "in the model's vocabulary",
    )
    parser.add_argument(
        "--length",
        type=positive_int,
        default=200,
        metavar="N",
        help="characters to generate (200)",
    )
    parser.add_argument(
        "--temperature",
        type=temperature,
        default=1.0,
        metavar="T",
        help="1 samples the model's distribution, lower is more conservative, 0 is greedy (1)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed: the same S, the same text (0)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import modular_nn as mnn
    from modular_nn.generation import generate

    model = mnn.load(args.checkpoint)
    text = generate(model, args.prompt, args.length, temperature=args.temperature, seed=args.seed)
    sys.stdout.write(args.prompt + text + "\n")
    return 0
