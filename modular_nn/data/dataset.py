"""``Dataset``: what a data source loads to, a training part and an optional held-out part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from modular_nn.data.sources import BatchSource, check_reshape
from modular_nn.errors import DataError

Inputs = np.ndarray | BatchSource | dict[str, np.ndarray]
#: labels: one array, or (several named targets) a dict keyed by output name
Targets = np.ndarray | dict[str, np.ndarray]


def reshape_inputs(
    x: Inputs, input_shape: Sequence[int] | Sequence[Sequence[int]] | Mapping[str, Sequence[int]]
) -> Inputs:
    """``x`` with each sample reshaped to ``input_shape`` (``(n, 64)`` to ``(n, 8, 8, 1)``).

    Named inputs (a dict of arrays) take a dict of shapes keyed by input name, a
    list of shapes in the dict's order (``model.input_shape`` of several inputs),
    or one shape for all of them; an input without a shape is left as it is. One
    array takes a shape, or a dict holding one (``model.input_shapes`` of one input).
    Raises ``DataError`` when the number of values per sample differs.
    """
    if isinstance(x, Mapping):
        shapes = _named_shapes(input_shape, list(x))
        return {k: reshape_inputs(v, shapes[k]) if k in shapes else v for k, v in x.items()}
    if isinstance(input_shape, Mapping):  # one unnamed array for a model's only input
        if len(input_shape) != 1:
            raise DataError(
                f"expected inputs keyed by {', '.join(map(repr, input_shape))}, received one array"
            )
        (input_shape,) = input_shape.values()
    shape = tuple(int(d) for d in input_shape)
    if isinstance(x, BatchSource):
        return x if x.sample_shape == shape else x.reshaped(shape)
    if tuple(x.shape[1:]) == shape:
        return x
    check_reshape(tuple(x.shape[1:]), shape)
    return x.reshape((x.shape[0], *shape))


def _named_shapes(input_shape: object, names: list[str]) -> dict[str, Sequence[int]]:
    """One shape per input name, from a dict of shapes, a list of shapes, or one shape."""
    if isinstance(input_shape, Mapping):
        return dict(input_shape)
    shapes = list(input_shape)
    if shapes and not isinstance(shapes[0], (int, np.integer)):
        return dict(zip(names, shapes))
    return dict.fromkeys(names, shapes)


def num_samples(x: Inputs | Targets) -> int:
    """The number of samples of an array, a source, or named arrays (those of the first)."""
    return len(next(iter(x.values()))) if isinstance(x, Mapping) else len(x)


@dataclass(frozen=True)
class Dataset:
    """Inputs and labels of one source.

    Built-in datasets have a fixed held-out split in ``x_test``/``y_test``; a
    file loads entirely into ``x_train``/``y_train`` (``x_test`` is None).
    ``x_train`` is an array, a ``BatchSource`` for data read batch by batch
    (HDF5), or a dict of arrays keyed by input name for a model with several
    inputs; labels are an array, or a dict keyed by output name for several
    targets. ``model.fit(ds.x_train, ds.y_train)`` works for all of them.

    Attributes:
        x_train: inputs, ``(n, *sample_shape)`` (or a dict of them).
        y_train: labels (None in a streamed source, which carries them, or without labels).
        x_test: held-out inputs, or None.
        y_test: held-out labels, or None.
        name: where the data came from (``builtin:digits``, a path).
        class_names: the names of the classes when the labels were names (a CSV's
            ``malignant``, ``benign``): label ``k`` is ``class_names[k]``; else None.
    """

    x_train: Inputs
    y_train: Targets | None
    x_test: Inputs | None = None
    y_test: Targets | None = None
    name: str = ""
    class_names: tuple[str, ...] | None = None

    @property
    def has_test(self) -> bool:
        """Whether the dataset has a held-out split."""
        return self.x_test is not None

    def held_out(self) -> tuple[Inputs, Targets | None]:
        """``(x_test, y_test)``, or all the data when there is no held-out split."""
        if self.x_test is not None:
            return self.x_test, self.y_test
        return self.x_train, self.y_train

    def reshaped(
        self, input_shape: Sequence[int] | Sequence[Sequence[int]] | Mapping[str, Sequence[int]]
    ) -> Dataset:
        """The same data with each sample reshaped to ``input_shape`` (same number of values)."""
        return replace(
            self,
            x_train=reshape_inputs(self.x_train, input_shape),
            x_test=None if self.x_test is None else reshape_inputs(self.x_test, input_shape),
        )

    def __repr__(self) -> str:
        def size(x: Inputs | None) -> str:
            return "none" if x is None else str(num_samples(x))

        return f"Dataset({self.name!r}, train={size(self.x_train)}, test={size(self.x_test)})"
