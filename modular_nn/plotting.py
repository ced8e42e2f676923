"""Training curves: loss and metrics per epoch, training and validation, to a PNG.

matplotlib is an optional extra: ``pip install "modular-nn[plot]"``. Without it
``require_matplotlib`` raises a ``ModularNNError`` saying so, which the command
line calls before training starts rather than after.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modular_nn.errors import ModularNNError
from modular_nn.model.history import History

INSTALL_HINT = 'pip install "modular-nn[plot]"'


def require_matplotlib() -> Any:
    """The ``matplotlib.pyplot`` module on the non-interactive Agg backend."""
    try:
        import matplotlib
    except ImportError:
        raise ModularNNError(
            f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(
    history: History, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Draw one panel per quantity (loss, then each metric), training and validation
    (``val_*``) curves against the epoch, and save it to ``path`` (PNG). Returns the path."""
    plt = require_matplotlib()
    from matplotlib.ticker import MaxNLocator

    names = [k for k in history.history if not k.startswith("val_")]
    names += [k[4:] for k in history.history if k.startswith("val_") and k[4:] not in names]
    if not names or not history.epoch:
        raise ModularNNError("nothing to plot: the run has no recorded epochs")
    names.sort(key=lambda k: k != "loss")  # loss first, then the metrics in their order
    cols = min(len(names), 3)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    epochs = history.epoch
    for ax, name in zip(axes.flat, names):
        for key, label, style in ((name, "training", "-"), (f"val_{name}", "validation", "--")):
            values = history.history.get(key)
            if values:
                ax.plot(epochs[-len(values) :], values, style, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    target = Path(path)
    try:
        fig.savefig(target, dpi=100)
    except OSError as exc:
        raise ModularNNError(f"cannot write the plot to {str(target)!r}: {exc}") from None
    finally:
        plt.close(fig)
    return target


def checkpoint_history(path: str | os.PathLike[str]) -> History:
    """The training history stored in a model checkpoint, read without rebuilding the model."""
    from modular_nn.checkpoint.format import KIND_MODEL
    from modular_nn.checkpoint.reader import open_checkpoint
    from modular_nn.checkpoint.state import read_history

    with open_checkpoint(path, kinds=(KIND_MODEL,)) as reader:
        return read_history(reader, History)
