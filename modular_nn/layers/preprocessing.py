"""What the preprocessing layers (``normalization``, ``rescaling``) share: options that
are a number or one number per index of some axes."""

from __future__ import annotations

from modular_nn.errors import ShapeError

#: An option given as one number for all indices, or one per index.
Numbers = float | list[float]


def check_numbers(layer: str, name: str, value: Numbers | None, size: int, where: str) -> None:
    """``ShapeError`` unless ``value`` is a number, or a list of 1 or ``size`` numbers;
    ``where`` says which indices they are for (in the message)."""
    if isinstance(value, list) and len(value) not in (1, size):
        raise ShapeError(
            f"{layer} {name} has {len(value)} values; expected 1 or {size}, one per index of "
            f"{where}"
        )
