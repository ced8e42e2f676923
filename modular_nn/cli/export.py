"""``modular-nn export CKPT -o model.onnx``: a checkpoint as an ONNX file (inference mode).

Needs the ``[onnx]`` extra; without it, or for a model with a component that cannot be
exported, the command prints one line saying why and writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a checkpoint's model as an ONNX file (needs the [onnx] extra)"
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written by train/save")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="file to write (default: CKPT with .onnx)"
    )
    parser.add_argument(
        "--format", default="onnx", choices=["onnx"], help="the format (onnx, the default)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import modular_nn as mnn
    from modular_nn.export import OPSET
    from modular_nn.export.onnx_export import require_onnx

    require_onnx()  # before loading: a missing extra is said first
    output = Path(args.output) if args.output else Path(args.checkpoint).with_suffix(".onnx")
    model = mnn.load(args.checkpoint)
    written = model.export(output, format=args.format)
    inputs = ", ".join(f"{name} {(None, *shape)}" for name, shape in model.input_shapes.items())
    outputs = ", ".join(f"{name} {(None, *shape)}" for name, shape in model.output_shapes.items())
    print(
        f"exported {model.name!r} to {written} (ONNX opset {OPSET}, {model.dtype.name}; "
        f"inputs {inputs}; outputs {outputs})"
    )
    return 0
