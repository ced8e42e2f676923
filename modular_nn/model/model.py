"""The user-facing ``Model``: a graph of layers, its losses, its optimizer, one generator.

``Model`` builds its layers, wires parameters to the optimizer and outputs to their
losses, and gives access (weights, summary, spec, files). The graph runs in
``modular_nn.graph.engine``; training and inference are the ``Training`` mixin
(``modular_nn.model.training``); losses and metrics per output are
``modular_nn.model.heads``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from modular_nn.components.layer import Layer, Shape
from modular_nn.components.loss import Loss
from modular_nn.components.optimizer import Optimizer
from modular_nn.errors import SpecError, SpecIssue, TrainingError
from modular_nn.graph.engine import GraphEngine
from modular_nn.graph.plan import GraphPlan
from modular_nn.model.heads import Heads, fuse, loss_weights_by_output, make_heads
from modular_nn.model.history import History
from modular_nn.model.inference import Inference
from modular_nn.model.structure import DataPreparation
from modular_nn.model.training import Training
from modular_nn.model.weights import WeightAccess
from modular_nn.registry import get_registry
from modular_nn.spec.issues import issues_from_validation_error
from modular_nn.spec.model_spec import DataSpec, ModelSpec, TrainingSpec, layer_name_problem

ComponentSource = str | dict[str, Any] | None


def _component(kind: str, value: Any, base: type) -> Any:
    if value is None or isinstance(value, base):
        return value
    return get_registry().create(kind, value)


class Model(Training, Inference, DataPreparation, WeightAccess):
    """A model: layers in a graph (a chain by default), a loss per output, an optimizer.

    Build one from a spec with ``mnn.build_model(spec)`` (graphs: several inputs and
    outputs, merges, shared layers, blocks) or a chain from layer objects::

        model = mnn.Model([Dense(units=5, activation="relu"), Dense(units=1, activation="sigmoid")],
                          input_shape=(2,), loss="binary_crossentropy",
                          optimizer={"type": "sgd", "learning_rate": 0.5})

    All randomness (initialization, shuffling, dropout) comes from one
    ``numpy.random.Generator`` seeded with ``seed``, so a run is reproducible.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_shape: Sequence[int] | None = None,
        loss: Loss | ComponentSource | dict[str, Any] = None,
        optimizer: Optimizer | ComponentSource = None,
        *,
        name: str = "model",
        dtype: str | np.dtype = "float32",
        seed: int = 0,
        training: TrainingSpec | dict[str, Any] | None = None,
        data: str | DataSpec | dict[str, Any] | None = None,
        graph: GraphPlan | None = None,
        loss_weights: Mapping[str, float] | Sequence[float] | None = None,
        layout: ModelSpec | None = None,
    ) -> None:
        """``graph`` (with ``layers`` its owning nodes' layers, in order, already named)
        and ``layout`` (the spec it came from) are given by ``build_model``; without
        them ``layers`` form a chain on one input of ``input_shape``."""
        if not isinstance(layers, (str, bytes)) and isinstance(layers, Iterable):
            layers = list(layers)  # a generator is read once
        inputs = dict(graph.inputs) if graph is not None else None
        settings = _checked_settings(
            layers, None if graph else input_shape, inputs, name, dtype, seed, training, data
        )
        self.name = settings.name
        self.dtype = np.dtype(settings.dtype)
        self.seed = settings.seed
        self.rng = np.random.default_rng(self.seed)
        self.training_config = settings.training
        self.data = settings.data
        #: the characters of a model trained on a text: source (id k + 1 is character k;
        #: modular_nn.data.text), saved in its checkpoint; None for other models
        self.vocabulary: list[str] | None = None
        #: the class names of labels that were names (label k is class_names[k]) and what
        #: the model was trained on (modular_nn.data.split.DataRecord), saved in its
        #: checkpoint by the CLI; None otherwise
        self.class_names: list[str] | None = None
        self.data_record: Any = None
        self.layers: list[Layer] = list(layers)
        self._layout = layout
        if graph is None:
            self._name_layers()
            graph = GraphPlan.chain(
                [layer.name for layer in self.layers], tuple(settings.input_shape)
            )  # type: ignore[arg-type, misc]
        self.graph = graph
        self.input_names = list(graph.inputs)
        self.input_shapes: dict[str, Shape] = dict(graph.inputs)
        self.output_names = _output_names(graph, layout)
        self._check_shapes()
        self._heads_loss: Any = None
        self.heads = Heads([])
        self.optimizer: Optimizer | None = None
        self.history = History()
        self.epochs_done = 0
        self.global_step = 0
        self.stop_training = False
        #: (epoch, weights) of the best epoch so far of early stopping that restores the
        #: best weights: kept here so that checkpoints carry them into a resumed run
        self.early_stopping_best: tuple[int, dict[str, np.ndarray]] | None = None
        #: ReduceLROnPlateau's counters (monitor, wait, cooldown, best), saved with
        #: checkpoints so that a resumed run reduces the rate where the whole run does
        self.reduce_lr_state: dict[str, Any] | None = None
        #: the data-parallel run of the current fit or evaluate (modular_nn.distributed)
        self._run: Any = None
        #: how many processes trained this model last (recorded in checkpoints)
        self.processes = 1
        try:
            self.engine = GraphEngine(graph, {layer.name: layer for layer in self.layers})  # type: ignore[misc]
            shapes = self.engine.build(self.rng, self.dtype)
            self._integer_flags = self._integer_inputs()
            self.output_shapes: dict[str, Shape] = {
                name: shapes[value] for name, value in zip(self.output_names, graph.outputs)
            }
            self._loss_weights = loss_weights_by_output(loss_weights, self.output_names)
            self.compile(loss=loss, optimizer=optimizer)
        except BaseException:
            for layer in self.layers:  # no model was made: the layers are free again
                layer.built = False
            raise

    # ----- shapes of one input and output (Keras: lists when there are several) -------
    @property
    def input_shape(self) -> Any:
        """The per-sample input shape; a list of them for several inputs."""
        shapes = list(self.input_shapes.values())
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        """The per-sample output shape; a list of them for several outputs."""
        shapes = list(self.output_shapes.values())
        return shapes[0] if len(shapes) == 1 else shapes

    # ----- construction --------------------------------------------------------------
    def _name_layers(self) -> None:
        from modular_nn.spec.loading import auto_layer_names

        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise SpecError(f"expected modular_nn.Layer instances, received: {layer!r}")
            if any(other is layer for other in self.layers[:i]):
                raise SpecError(
                    [SpecIssue(f"layers[{i}]", "the same layer object appears twice; "
                               "create one layer object per position")]
                )  # fmt: skip
            if layer.built:
                raise SpecError(
                    [SpecIssue(f"layers[{i}]", f"layer {layer.name!r} already belongs to a model "
                               "(its weights are that model's); create a new layer object")]
                )  # fmt: skip
            if layer.takes_several_inputs():
                raise SpecError(
                    [SpecIssue(f"layers[{i}]", f"{layer.type_name} takes several inputs; a "
                               "list of layers is a chain: describe the graph in a spec")]
                )  # fmt: skip
            problem = layer.name is not None and layer_name_problem(layer.name)
            if problem:
                raise SpecError([SpecIssue(f"layers[{i}].name", problem)])
        names = auto_layer_names(
            [layer.type_name for layer in self.layers], [layer.name for layer in self.layers]
        )
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise SpecError(f"duplicate layer names: {', '.join(dupes)}")
        for layer, layer_name in zip(self.layers, names):
            layer.name = layer_name

    def _check_shapes(self) -> None:
        from modular_nn.spec.shapes import infer_graph_shapes

        issues, _ = infer_graph_shapes(self.graph, {layer.name: layer for layer in self.layers})  # type: ignore[misc]
        if issues:
            raise SpecError(issues)

    def compile(
        self,
        loss: Loss | ComponentSource | dict[str, Any] = None,
        optimizer: Optimizer | ComponentSource = None,
        metrics: Sequence[Any] | Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        """Set (or replace) the loss, optimizer and metrics; ``None`` keeps the current one.

        With several outputs ``loss`` is one loss for all of them or a dict keyed by
        output name. ``metrics`` replaces the spec's ``training.metrics`` for this model
        (``to_spec`` and checkpoints carry it): metric names (entries where the metric
        has options), or with several outputs a dict of them keyed by output name;
        ``[]`` reports none. Wrong metrics raise before anything changes."""
        if metrics is not None:
            settings = self._with_metrics(metrics, loss)
        if loss is not None:
            self.heads, self._loss_per_output = make_heads(
                loss, self.output_shapes, self._loss_weights
            )
            self._heads_loss = loss
        if optimizer is not None:
            self.optimizer = _component("optimizers", optimizer, Optimizer)
        if metrics is not None:
            self.training_config = settings
        self._wire()

    def _with_metrics(self, metrics: Any, loss: Any) -> TrainingSpec:
        """The training settings with ``metrics``, checked against the outputs (and their
        losses: ``loss`` when it is being replaced too)."""
        if isinstance(metrics, (str, bytes)):
            raise SpecError(
                [SpecIssue("training.metrics", f"expected a list of metrics, received: "
                           f"{metrics!r}", f"write metrics=[{metrics!r}]")]
            )  # fmt: skip
        value = dict(metrics) if isinstance(metrics, Mapping) else list(metrics)
        if isinstance(value, dict):
            value = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in value.items()}
            unknown = [k for k in value if k not in self.output_names]
            if unknown:
                raise SpecError(
                    [SpecIssue("training.metrics", f"metrics for unknown outputs {unknown}",
                               f"key them by output name: {', '.join(self.output_names)}")]
                )  # fmt: skip
        fields = {**self.training_config.model_dump(mode="json"), "metrics": value}
        try:
            settings = TrainingSpec.model_validate(fields)
        except ValidationError as exc:
            raise SpecError(
                issues_from_validation_error(exc, fields, prefix=("training",))
            ) from None
        heads = self.heads
        if loss is not None:
            heads, _ = make_heads(loss, self.output_shapes, self._loss_weights)
        heads.new_metrics(settings.metrics)  # metrics that do not fit an output's loss
        return settings

    def _wire(self) -> None:
        """Collect parameters, bind the optimizer, fuse output activations with losses."""
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        for layer in self.layers:
            for key, value in layer.params.items():
                self.params[f"{layer.name}/{key}"] = value
                self.grads[f"{layer.name}/{key}"] = layer.grads[key]
            for key, value in layer.buffers.items():
                self.buffers[f"{layer.name}/{key}"] = value
        if self.optimizer is not None:
            self.optimizer.bind(self.params, self.grads)
        fuse(self.heads.heads, self._fusable_output_layers())
        self.engine.plan_backward()
        self._verify_next_step = True  # the next training step checks every layer's shapes

    def _fusable_output_layers(self) -> list[Layer | None]:
        """Each output's layer, or None where fusing its activation with the loss would
        be wrong: it is shared, or its output also feeds another layer."""
        consumers: dict[str, int] = {}
        for node in self.graph.nodes:
            for value in node.inputs:
                consumers[value] = consumers.get(value, 0) + 1
        outputs = self.graph.outputs
        result: list[Layer | None] = []
        for value in outputs:
            step = next(s for s in self.engine.steps if s.name == value)
            shared = step.layer.name in self.engine.clones or step.layer not in self.layers
            reused = consumers.get(value, 0) > 0 or outputs.count(value) > 1
            result.append(None if shared or reused else step.layer)
        return result

    def _all_layer_objects(self) -> list[Layer]:
        """Every layer object the graph runs: the layers and their clones for reuse."""
        return [step.layer for step in self.engine.steps]

    @property
    def writes_files(self) -> bool:
        """False in the processes of a data-parallel run other than rank 0 (rank 0 writes
        checkpoints; modular_nn.distributed)."""
        return self._run is None or self._run.world.rank == 0

    @property
    def loss(self) -> Any:
        """The loss: one ``Loss``, or with several outputs a dict of them by output name."""
        if not self.heads.heads:
            return None
        if self.heads.single:
            return self.heads.heads[0].loss
        return {head.name: head.loss for head in self.heads.heads}

    @property
    def _fused(self) -> Any:
        """The fused output activation of a single-output model (or None)."""
        return self.heads.heads[0].fused if self.heads.single else None

    # ----- forward / backward --------------------------------------------------------
    def __call__(self, x: Any, training: bool = False) -> Any:
        """``model(x)``: one forward pass over all of ``x``, in inference mode (dropout off,
        batch normalization's moving statistics), as in Keras. ``x`` as for ``predict``
        (an array, or a dict keyed by input name / a list for several inputs); gives an
        array, or a dict keyed by output name for several outputs. ``training=True``
        runs it as a training step's forward pass would (dropout on, batch statistics,
        which also updates the moving statistics) without computing any gradient."""
        xs = self._prepare_x(x)
        return self._named_outputs(self.engine.forward(xs, bool(training)))

    def forward(self, x: Any, training: bool = False) -> Any:
        """Run the graph on an already prepared batch: an array (one input) or a list of
        arrays in input order; gives an array (one output, array given) or a list."""
        outs = self.engine.forward(x if isinstance(x, list) else [x], training)
        return outs if isinstance(x, list) or len(outs) > 1 else outs[0]

    def backward(self, grad_out: Any, *, input_grad: bool = False) -> Any:
        """Back-propagate dL/d(output) (an array, or a list per output), filling
        ``self.grads``; shared layers get the sum over their uses.

        With ``input_grad=True`` also returns dL/d(input) (a list for a list given or
        several inputs); otherwise nodes that nothing trainable precedes are skipped
        and None is returned.
        """
        grads = grad_out if isinstance(grad_out, list) else [grad_out]
        if not input_grad:
            self.engine.backward(grads)
            return None
        self.engine.plan_backward(input_grad=True)
        try:
            result = self.engine.backward(grads)
        finally:
            self.engine.plan_backward()
        return result if isinstance(grad_out, list) or len(result) > 1 else result[0]

    def _loss_and_grad(self, out: Any, y: Any) -> tuple[float, Any]:
        outs = out if isinstance(out, list) else [out]
        ys = y if isinstance(y, list) else [y]
        total, grads, _ = self.heads.loss_and_grads(outs, ys, self.engine.output_masks)
        return total, grads if isinstance(out, list) else grads[0]

    def _require(self, *what: str) -> None:
        for item in what:
            if getattr(self, item) is None:
                raise TrainingError(
                    f"this model has no {item}; give the spec a '{item}' (for example "
                    f'"{"adam" if item == "optimizer" else "mse"}") '
                    f"or call model.compile({item}=...)"
                )

    # ----- description -----------------------------------------------------------------
    def summary(self, print_fn: Callable[[str], Any] | None = None) -> str:
        """Print a table of layers (name, type, output shape, parameters; for a graph
        also each node's block and inputs) with totals, as Keras does; ``print_fn``
        receives the text instead of ``print``. Returns the text."""
        from modular_nn.model.summary import summary_table

        text = summary_table(self)
        (print if print_fn is None else print_fn)(text)
        return text

    def to_spec(self) -> ModelSpec:
        """The normalized spec of this model; ``build_model(model.to_spec())`` rebuilds it."""
        from modular_nn.spec.loading import load_spec

        def entry(component: Any) -> dict[str, Any]:
            return {"type": component.type_name, **component.get_config()}

        data: dict[str, Any] = {"format_version": 1, "name": self.name}
        if self._layout is not None:  # a graph: its layout as the spec gave it
            layout = self._layout.model_dump(mode="json", by_alias=True)
            for key in ("input_shape", "inputs", "blocks", "layers", "outputs"):
                if key in layout:
                    data[key] = layout[key]
        else:
            data["input_shape"] = list(self.input_shape)
            data["layers"] = [
                {"type": layer.type_name, "name": layer.name, **layer.get_config()}
                for layer in self.layers
            ]
        data.update({"dtype": self.dtype.name, "seed": self.seed})
        heads = self.heads.heads
        if not heads:
            data["loss"] = None
        elif getattr(self, "_loss_per_output", False):
            data["loss"] = {head.name: entry(head.loss) for head in heads}
        else:
            data["loss"] = entry(heads[0].loss)
        if self._loss_weights:
            data["loss_weights"] = dict(self._loss_weights)
        data["optimizer"] = entry(self.optimizer) if self.optimizer is not None else None
        data["training"] = self.training_config.model_dump(mode="json")
        data["data"] = self.data
        return load_spec(data)

    def __repr__(self) -> str:
        return (
            f"Model(name={self.name!r}, layers={len(self.layers)}, params={self.count_params()}, "
            f"dtype={self.dtype.name})"
        )


def _checked_settings(
    layers: Sequence[Layer],
    input_shape: Any,
    inputs: Any,
    name: Any,
    dtype: Any,
    seed: Any,
    training: Any,
    data: Any,
) -> ModelSpec:
    """The model's settings validated as a spec's would be (``SpecError`` listing every
    problem, with the spec field each belongs to)."""
    try:  # any NumPy spelling of a dtype ("f4", np.float64, "double") by its name
        dtype = np.dtype(dtype).name if dtype is not None else dtype
    except TypeError:
        pass  # the spec's check names the received value
    fields = {
        "name": name,
        "input_shape": input_shape,
        "inputs": inputs,
        "dtype": dtype,
        "seed": seed,
        "layers": layers,
        "training": training if training is not None else {},
        "data": data,
    }
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as exc:
        raise SpecError(issues_from_validation_error(exc, fields)) from None


def _output_names(graph: GraphPlan, layout: ModelSpec | None) -> list[str]:
    """The user-facing names of the outputs (a block placement's name, not its last node)."""
    if layout is not None and layout.outputs:
        return list(layout.outputs)
    if layout is not None:
        return [layout.layers[-1].name]  # type: ignore[list-item]
    return list(graph.outputs)
