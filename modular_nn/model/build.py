"""``build_model``: a spec (in any form ``load_spec`` accepts) to a ``Model``."""

from __future__ import annotations

from modular_nn.model.model import Model
from modular_nn.spec.loading import SpecSource, load_spec
from modular_nn.spec.shapes import component_options, layer_from_entry


def build_model(spec: SpecSource) -> Model:
    """Validate ``spec`` and build the model it describes (weights drawn from its seed)."""
    spec = load_spec(spec)
    return Model(
        [layer_from_entry(entry) for entry in spec.layers],
        input_shape=spec.input_shape,
        loss=component_options(spec.loss) if spec.loss is not None else None,
        optimizer=component_options(spec.optimizer) if spec.optimizer is not None else None,
        name=spec.name,
        dtype=spec.dtype,
        seed=spec.seed,
        training=spec.training,
        data=spec.data,
    )
