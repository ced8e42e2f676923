"""The kit's API: cases for parametrize, reports, options, skips, kinds."""

from __future__ import annotations

import pytest

import modular_nn as mnn
from modular_nn.testing import (
    ConformanceCase,
    ConformanceError,
    assert_conforms,
    check_component,
    conformance_cases,
)


def test_cases_select_a_provider_and_read_as_ids():
    cases = conformance_cases(plugin="builtins", kinds=["layer", "optimizers"])
    assert ConformanceCase("layers", "dense") in cases
    assert ConformanceCase("optimizers", "adam") in cases
    assert all(c.kind in ("layers", "optimizers") for c in cases)
    assert str(ConformanceCase("layers", "dense")) == "layers:dense"


def test_cases_for_a_distribution_that_is_not_installed_is_an_error():
    with pytest.raises(mnn.PluginError, match="no modular_nn plugin from distribution"):
        conformance_cases(distribution="modular-nn-not-installed")


def test_unknown_kind_is_an_error():
    with pytest.raises(mnn.PluginError, match="unknown component kind"):
        check_component("widgets", "dense")


def test_report_lists_every_property_with_its_numbers():
    report = check_component("layers", "dense", input_shape=(3,), options={"units": 2})
    text = str(report)
    assert text.startswith("layers 'dense' from modular-nn")
    assert "PASS gradients: max relative error" in text
    assert report.result("output shape").detail == "(3,) -> (2,)"
    assert report.checked()[:2] == ["construct", "config round trip"]


def test_skip_and_bad_options():
    report = check_component("layers", "dense", skip=["hdf5 round trip"])
    assert report.result("hdf5 round trip").status == "skip"
    bad = check_component("layers", "dense", options={"units": 0})
    assert bad.result("construct").failed and "units" in bad.result("construct").detail
    assert all(r.status == "skip" for r in bad.results[1:])
    with pytest.raises(ConformanceError, match="construct"):
        bad.raise_for_failures()


def test_unknown_component_fails_with_did_you_mean():
    report = check_component("layers", "dense_")
    assert not report.ok
    assert "did you mean 'dense'" in report.failures[0].detail


def test_assert_conforms_returns_the_report():
    report = assert_conforms(ConformanceCase("activations", "relu"))
    assert report.ok and report.provider.plugin == "builtins"
