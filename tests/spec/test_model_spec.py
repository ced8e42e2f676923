"""``ModelSpec``: equality by ``model_dump()``, as DESIGN.md's contract says."""

from pathlib import Path

import modular_nn as mnn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "xor.json"


def test_specs_are_equal_when_their_dumps_are() -> None:
    spec = mnn.load_spec(EXAMPLE)  # carries "$schema", which model_dump leaves out
    assert mnn.load_spec(spec) == spec
    assert mnn.build_model(spec).to_spec() == spec
    assert mnn.load_spec(spec.model_dump()) == spec
    other = mnn.load_spec({**spec.model_dump(), "seed": spec.seed + 1})
    assert other != spec and spec != spec.model_dump()  # a dict is not a spec
