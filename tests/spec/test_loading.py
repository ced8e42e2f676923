"""load_spec: sources, defaults, normalization, and errors that read well."""

import json
from pathlib import Path

import pytest

import modular_nn as mnn

MINIMAL = {"input_shape": [4], "layers": [{"type": "dense", "units": 3}]}


def problems(spec: object) -> mnn.SpecError:
    with pytest.raises(mnn.SpecError) as info:
        mnn.load_spec(spec)  # type: ignore[arg-type]
    return info.value


def test_defaults_are_filled_in() -> None:
    spec = mnn.load_spec(MINIMAL)
    assert spec.format_version == 1 and spec.name == "model" and spec.dtype == "float32"
    assert spec.seed == 0 and spec.loss is None and spec.optimizer is None and spec.data is None
    assert spec.training.epochs == 10 and spec.training.batch_size == 32
    assert spec.layers[0].name == "dense_1"


def test_sources_path_json_text_dict_and_spec(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(MINIMAL))
    expected = mnn.load_spec(MINIMAL).model_dump()
    for source in (str(path), path, json.dumps(MINIMAL), "  \n" + json.dumps(MINIMAL)):
        assert mnn.load_spec(source).model_dump() == expected
    assert mnn.load_spec(mnn.load_spec(MINIMAL)).model_dump() == expected


def test_missing_file_names_it() -> None:
    err = problems("no/such/spec.json")
    assert "no/such/spec.json" in str(err) and "not found" in str(err)


def test_shorthand_is_expanded_and_normalizing_twice_changes_nothing() -> None:
    spec = mnn.load_spec({**MINIMAL, "loss": "mse", "optimizer": "adam"})
    dumped = spec.model_dump()
    assert dumped["optimizer"] == {
        "type": "adam",
        "learning_rate": 0.001,
        "schedule": None,
        "global_clipnorm": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "weight_decay": 0.0,
    }
    assert dumped["loss"]["type"] == "mse"
    assert dumped["layers"][0]["activation"] == {"type": "linear"}
    assert mnn.load_spec(dumped).model_dump() == dumped


def test_automatic_names_count_per_type_and_user_names_win() -> None:
    spec = mnn.load_spec(
        {
            "input_shape": [4],
            "layers": [
                {"type": "dense", "units": 3},
                {"type": "dropout"},
                {"type": "dense", "units": 3, "name": "dense_2"},
                {"type": "dense", "units": 3},
                {"type": "dropout"},
            ],
        }
    )
    assert [e.name for e in spec.layers] == [
        "dense_1",
        "dropout_1",
        "dense_2",
        "dense_3",
        "dropout_2",
    ]


def test_schema_key_is_accepted_and_ignored() -> None:
    spec = mnn.load_spec({"$schema": "../schemas/model-spec.schema.json", **MINIMAL})
    assert "$schema" not in spec.model_dump(by_alias=True)


def test_round_trip_through_a_model() -> None:
    spec = {**MINIMAL, "loss": "mse", "optimizer": "sgd"}
    model = mnn.build_model(spec)
    normalized = model.to_spec()
    assert mnn.build_model(normalized).to_spec().model_dump() == normalized.model_dump()
    assert mnn.load_spec(spec).model_dump() == normalized.model_dump()


# ----- errors -------------------------------------------------------------------------------


def test_negative_units() -> None:
    err = problems({"input_shape": [4], "layers": [{"type": "dense", "units": -3}]})
    assert "layers[0].units" in str(err) and "greater than 0" in str(err) and "-3" in str(err)


def test_unknown_layer_type_suggests_close_names() -> None:
    err = problems({"input_shape": [4], "layers": [{"type": "dense2", "units": 3}]})
    text = str(err)
    assert "layers[0]" in text and "did you mean 'dense'" in text and "available:" in text
    assert "batch_norm" in text


def test_unknown_activation() -> None:
    err = problems(
        {"input_shape": [4], "layers": [{"type": "dense", "units": 3, "activation": "rleu"}]}
    )
    assert "layers[0].activation" in str(err) and "did you mean 'relu'" in str(err)


def test_missing_input_shape() -> None:
    err = problems({"layers": [{"type": "dense", "units": 3}]})
    assert err.issues[0].path == "input_shape" and "missing" in str(err)


def test_string_where_a_number_belongs() -> None:
    err = problems({"input_shape": [4], "layers": [{"type": "dense", "units": "three"}]})
    assert "layers[0].units" in str(err) and "'three'" in str(err)


def test_duplicate_layer_name() -> None:
    layers = [
        {"type": "dense", "units": 3, "name": "a"},
        {"type": "dense", "units": 3, "name": "a"},
    ]
    err = problems({"input_shape": [4], "layers": layers})
    assert "layers[1].name" in str(err) and "duplicate" in str(err)


def test_invalid_json_gives_line_and_column() -> None:
    err = problems('{\n  "input_shape": [4],\n  "layers": [}\n}')
    assert "line 3" in str(err) and "column" in str(err)


def test_unknown_option_suggests_the_right_one() -> None:
    err = problems({"input_shape": [4], "layers": [{"type": "dense", "unit": 3}]})
    text = str(err)
    assert "layers[0].unit" in text and "did you mean 'units'" in text


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        (
            {"training": {"early_stopping": {"monitr": "loss"}}},
            "training.early_stopping.monitr",
            "did you mean 'monitor'?; allowed here: monitor, patience,",
        ),
        (
            {"optimizer": {"type": "sgd", "schedule": {"type": "cosine", "decay_step": 9}}},
            "optimizer.schedule.decay_step",
            "did you mean 'decay_steps'?; allowed here: type, warmup_steps, decay_steps, alpha",
        ),
        ({"training": {"epoch": 3}}, "training.epoch", "did you mean 'epochs'?; allowed here:"),
        ({"trainin": {}}, "trainin", "did you mean 'training'?; allowed here: $schema,"),
        ({"optimizer": {"type": "sgd", "zzz": 1}}, "optimizer.zzz", "remove it; allowed here:"),
    ],
)
def test_unknown_options_in_nested_objects_get_the_keys_allowed_there(
    changes: dict, path: str, hint: str
) -> None:
    err = problems({**MINIMAL, **changes})
    issue = next(issue for issue in err.issues if issue.path == path)
    assert hint in str(issue), str(issue)


def test_unknown_loss_and_optimizer() -> None:
    err = problems({**MINIMAL, "loss": "mse2", "optimizer": {"type": "adamm"}})
    assert {issue.path for issue in err.issues} == {"loss", "optimizer"}
    assert "did you mean 'adam'" in str(err)


def test_fifty_mistakes_are_all_reported() -> None:
    layers = [{"type": "dense", "units": -i - 1} for i in range(50)]
    err = problems({"input_shape": [4], "layers": layers})
    assert len(err.issues) == 50
    assert {issue.path for issue in err.issues} == {f"layers[{i}].units" for i in range(50)}


def test_shape_errors_are_caught_at_validation() -> None:
    err = problems(
        {
            "input_shape": [4],
            "layers": [{"type": "dense", "units": 1}],
            "loss": "sparse_categorical_crossentropy",
        }
    )
    assert err.issues[0].path == "loss" and "(1,)" in str(err)


@pytest.mark.parametrize(
    ("layers", "path", "shapes"),
    [
        # a layer that needs a 4-D input given a 2-D one
        ([{"type": "conv2d", "filters": 2, "kernel_size": 3}], "layers[0]", ["(16,)"]),
        # a reshape whose element count differs, after a layer that changed the shape
        (
            [{"type": "dense", "units": 12}, {"type": "reshape", "target_shape": [5, 2]}],
            "layers[1]",
            ["(12,)", "(5, 2)"],
        ),
    ],
    ids=["rank", "reshape"],
)
def test_shapes_that_cannot_chain_name_the_layer_and_both_shapes(
    layers: list[dict], path: str, shapes: list[str]
) -> None:
    spec = {"input_shape": [16], "layers": layers, "loss": "mse", "optimizer": "sgd"}
    err = problems(spec)
    assert [issue.path for issue in err.issues] == [path]
    for shape in shapes:
        assert shape in str(err)
    with pytest.raises(mnn.SpecError):  # build_model refuses it too
        mnn.build_model(spec)


def test_parameter_limit_refuses_huge_layers_before_allocating() -> None:
    err = problems({"input_shape": [1_000_000], "layers": [{"type": "dense", "units": 1_000_000}]})
    assert "layers[0]" in str(err) and "1,000,001,000,000 parameters" in str(err)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    assert "expected a JSON object" in str(problems(path))
    assert "received: list" in str(problems(["not", "a", "dict"]))


def test_a_spec_file_with_a_byte_order_mark_and_an_empty_path(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8-sig")
    assert mnn.load_spec(path).input_shape == [4]
    with pytest.raises(mnn.SpecError, match="received an empty string"):
        mnn.load_spec("")


def test_plugin_options_typed_as_tuples_read_json_arrays() -> None:
    # a regression once: strict JSON validation refused [0.9, 0.95] for a tuple option
    # behind the shorthand expansion of loss and optimizer entries
    from modular_nn.optimizers.sgd import SGD
    from modular_nn.registry import builtins_only_registry, use_registry

    class Betas(SGD):
        type_name = "t.betas"

        class Config(SGD.Config):
            betas: tuple[float, float] = (0.9, 0.99)

    class Plugin:
        @mnn.hookimpl
        def register_optimizers(self, register):  # noqa: ANN001, ANN202
            register(Betas)

    registry = builtins_only_registry()
    assert registry.register_plugin(Plugin(), provider="t")
    with use_registry(registry):
        spec = mnn.load_spec({**MINIMAL, "optimizer": {"type": "t.betas", "betas": [0.9, 0.95]}})
        assert spec.optimizer.betas == (0.9, 0.95)
        model = mnn.build_model(spec)
        assert mnn.load_spec(model.to_spec()) == spec
