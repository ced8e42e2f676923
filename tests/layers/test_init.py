"""``modular_nn.layers``: every built-in layer class importable from the package."""

import pytest

import modular_nn.layers as layers
from modular_nn.builtins import LAYERS


def test_every_builtin_layer_class_is_importable_from_the_package() -> None:
    assert sorted(layers.__all__) == sorted(cls.__name__ for cls in LAYERS)
    for cls in LAYERS:
        assert getattr(layers, cls.__name__) is cls
    from modular_nn.layers import Conv2D, Dense  # the README's spelling

    assert Dense.type_name == "dense" and Conv2D.type_name == "conv2d"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Dens'"):
        layers.Dens  # noqa: B018
