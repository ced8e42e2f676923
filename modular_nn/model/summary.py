"""The text table of ``Model.summary()`` and ``modular-nn summary``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modular_nn.model.model import Model


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([lines[0], rule, *lines[1:], rule])


def summary_table(model: Model) -> str:
    """Layer name, type, output shape and parameter count, then the totals."""
    rows = []
    for layer in model.layers:
        shape = "(None, " + ", ".join(str(d) for d in layer.output_shape or ()) + ")"
        count = sum(p.size for p in layer.params.values())
        rows.append((layer.name or "", layer.type_name, shape, f"{count:,}"))
    table = format_table(rows, ("Layer", "Type", "Output shape", "Params"))
    trainable = model.count_params()
    buffers = sum(b.size for b in model.buffers.values())
    input_shape = "(None, " + ", ".join(str(d) for d in model.input_shape) + ")"
    return (
        f'Model "{model.name}" (input {input_shape}, {model.dtype.name})\n{table}\n'
        f"Total params: {trainable + buffers:,}\n"
        f"Trainable params: {trainable:,}\nNon-trainable params: {buffers:,}"
    )
