"""bidirectional: merge modes, masks, weight names, validation of its ``layer`` entry,
checkpoints (PyTorch parity: tests/layers/test_recurrent.py)."""

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.bidirectional import Bidirectional
from modular_nn.testing import assert_gradients_close, check_layer_gradients

BIAS = {"type": "normal", "stddev": 0.5}


def wrap(type_name: str = "lstm", merge_mode: str = "concat", **options: Any) -> Bidirectional:
    entry = {"type": type_name, "units": 3, "bias_initializer": BIAS, **options}
    return Bidirectional(layer=entry, merge_mode=merge_mode)


@pytest.mark.parametrize("type_name", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_with_a_mask(type_name: str, merge_mode: str, return_sequences: bool) -> None:
    layer = wrap(type_name, merge_mode, return_sequences=return_sequences)
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    mask[2, :] = False
    mask[2, 1] = True  # all padding but one step
    layer.input_mask = mask
    results = check_layer_gradients(layer, (5, 4))
    assert {"forward/kernel", "backward/recurrent_kernel", "backward/bias"} <= set(results)
    assert_gradients_close(results, 1e-5)


def test_the_backward_copy_reads_in_reverse_and_is_put_back_in_order() -> None:
    layer = wrap("gru", return_sequences=True)
    layer.build((5, 4), np.random.default_rng(0), np.float64)
    fwd, bwd = layer.copies["forward"], layer.copies["backward"]
    assert not fwd.config.go_backwards and bwd.config.go_backwards
    x = np.random.default_rng(1).standard_normal((2, 5, 4))
    out = layer.forward(x, False)
    assert out.shape == (2, 5, 6)
    np.testing.assert_array_equal(out[..., :3], fwd.forward(x, False))
    np.testing.assert_array_equal(out[..., 3:], bwd.forward(x, False)[:, ::-1])


def test_shapes_and_masks() -> None:
    assert wrap().compute_output_shape((5, 4)) == (6,)
    assert wrap(merge_mode="ave").compute_output_shape((5, 4)) == (3,)
    sequences = wrap(return_sequences=True, go_backwards=True)
    assert sequences.compute_output_shape((5, 4)) == (5, 6)
    mask = np.ones((2, 5), bool)
    assert sequences.produces_mask((5, 4), True) and sequences.compute_mask(None, mask) is mask
    assert not wrap().produces_mask((5, 4), True)
    assert wrap().param_shapes((5, 4))["backward/recurrent_kernel"] == (3, 12)


def test_the_layer_entry_is_validated_and_written_out_in_full() -> None:
    config = wrap("simple_rnn").get_config()
    assert config["layer"]["activation"] == {"type": "tanh"}
    assert config["merge_mode"] == "concat"
    with pytest.raises(mnn.SpecError, match="expected a recurrent layer: one of gru, lstm"):
        Bidirectional(layer={"type": "dense", "units": 3})
    with pytest.raises(mnn.SpecError, match="invalid options for layer 'lstm'.*units"):
        Bidirectional(layer={"type": "lstm"})
    with pytest.raises(mnn.SpecError, match="merge_mode"):
        Bidirectional(layer={"type": "lstm", "units": 2}, merge_mode="max")


def spec() -> dict[str, Any]:
    return {
        "input_shape": [5, 2],
        "layers": [
            {"type": "bidirectional", "layer": {"type": "lstm", "units": 3}},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
        "optimizer": "adam",
    }


def test_weight_names_in_the_model_and_the_checkpoint(tmp_path: Path) -> None:
    model = mnn.build_model(spec())
    names = {"kernel", "recurrent_kernel", "bias"}
    expected = {f"bidirectional_1/{d}/{k}" for d in ("forward", "backward") for k in names}
    assert expected <= set(model.get_weights())
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5, 2)), rng.standard_normal((8, 1))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "bi.h5")
    with h5py.File(tmp_path / "bi.h5", "r") as f:
        paths: list[str] = []
        f.visit(paths.append)
    assert any(p.endswith("bidirectional_1/backward/recurrent_kernel") for p in paths)
    loaded = mnn.load(tmp_path / "bi.h5")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    rebuilt = mnn.build_model(model.to_spec())
    assert rebuilt.to_spec().model_dump() == model.to_spec().model_dump()
