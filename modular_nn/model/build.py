"""``build_model``: a spec (in any form ``load_spec`` accepts) to a ``Model``; ``load``: a
checkpoint file to the ``Model`` it holds."""

from __future__ import annotations

import os

from modular_nn.errors import SpecError
from modular_nn.model.model import Model
from modular_nn.spec.graph import resolve_graph
from modular_nn.spec.loading import SpecSource, load_spec
from modular_nn.spec.model_spec import uses_graph_keys
from modular_nn.spec.shapes import component_options, layer_from_entry, plan_layers


def build_model(spec: SpecSource) -> Model:
    """Validate ``spec`` and build the model it describes (weights drawn from its seed)."""
    spec = load_spec(spec)
    if isinstance(spec.loss, dict):
        loss = {name: component_options(entry) for name, entry in spec.loss.items()}
    else:
        loss = component_options(spec.loss) if spec.loss is not None else None
    optimizer = component_options(spec.optimizer) if spec.optimizer is not None else None
    settings = dict(
        name=spec.name, dtype=spec.dtype, seed=spec.seed, training=spec.training, data=spec.data
    )
    if not uses_graph_keys(spec):  # a chain of one-input layers: built as a list of layers
        layers = [layer_from_entry(entry) for entry in spec.layers]
        if not any(layer.takes_several_inputs() for layer in layers):
            return Model(layers, spec.input_shape, loss, optimizer, **settings)  # type: ignore[arg-type]
    plan, issues = resolve_graph(spec)  # load_spec has checked it
    if plan is None:
        raise SpecError(issues)
    layers = list(plan_layers(plan).values())
    return Model(
        layers,
        None,
        loss,
        optimizer,
        graph=plan,
        loss_weights=spec.loss_weights,
        layout=spec,
        **settings,  # type: ignore[arg-type]
    )


def load(path: str | os.PathLike[str]) -> Model:
    """Load a model saved with ``model.save``; raises only ``CheckpointError``."""
    from modular_nn.checkpoint import load_model  # h5py is imported on first use only

    return load_model(path, build_model)
