"""``modular-nn inspect CKPT``: describe a checkpoint (spec, weights, state, providers).

Reads the file without rebuilding the model, so it works even when a plugin
the model needs is not installed (the providers table says what to install).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect", help="describe a checkpoint or weights file without loading the model"
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="file written by save or save_weights")
    parser.add_argument(
        "--verify", action="store_true", help="also read every dataset and verify its checksum"
    )
    parser.add_argument(
        "--plot", metavar="PNG", help="draw the run's loss and metrics per epoch (matplotlib)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.checkpoint.inspection import describe_checkpoint

    print(describe_checkpoint(args.checkpoint, verify=args.verify))
    if args.plot:
        from modular_nn.plotting import checkpoint_history, plot_history, require_matplotlib

        require_matplotlib()
        print(f"saved plot {plot_history(checkpoint_history(args.checkpoint), args.plot)}")
    return 0
