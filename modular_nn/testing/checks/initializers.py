"""Conformance properties of weight initializers."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.initializer import Initializer
from modular_nn.testing.checks.base import ComponentChecks, fail_if, max_abs_diff

#: A bias, a dense kernel and a conv kernel.
SHAPES = ((7,), (5, 3), (3, 3, 2, 4))


class InitializerChecks(ComponentChecks):
    """Shapes and dtypes, determinism for a seed, and the spec round trip."""

    properties = (
        ("shape and dtype", "check_shape_and_dtype"),
        ("seed determinism", "check_seed_determinism"),
        ("spec round trip", "check_spec_round_trip"),
    )

    def draw(self, shape: tuple[int, ...], dtype: Any, seed: int | None = None) -> np.ndarray:
        initializer: Initializer = self.make()
        return initializer(shape, np.random.default_rng(self.seed if seed is None else seed), dtype)

    def check_shape_and_dtype(self) -> str:
        problems = []
        for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            for shape in SHAPES:
                value = np.asarray(self.draw(shape, dtype))
                if value.shape != shape:
                    problems.append(f"asked for {shape}, received {value.shape}")
                elif value.dtype != dtype:
                    problems.append(f"asked for {dtype.name}, received {value.dtype}")
                elif not np.isfinite(value).all():
                    problems.append(f"non-finite values for shape {shape}")
        fail_if(problems)
        return f"shapes {', '.join(map(str, SHAPES))} in float32 and float64"

    def check_seed_determinism(self) -> str:
        problems = []
        for shape in SHAPES:
            gap = max_abs_diff(self.draw(shape, np.float64), self.draw(shape, np.float64))
            if gap:
                problems.append(f"two draws for {shape} from one seed differ by up to {gap:.3g}")
        fail_if(problems)
        return "one seed, one result"

    def model_spec(self) -> dict[str, Any]:
        self.require_components(("layers", "dense"))
        return {
            "name": "conformance",
            "input_shape": [4],
            "seed": self.seed,
            "layers": [
                {
                    "type": "dense",
                    "units": 3,
                    "kernel_initializer": {"type": self.name, **self.options},
                }
            ],
        }
