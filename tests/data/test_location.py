"""Where a data source's path resolves, and what a missing file's error says."""

from __future__ import annotations

from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.data import load_data
from modular_nn.data.location import missing_message, resolve_source, source_path


def test_a_relative_path_resolves_against_the_folder_given_or_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_folder = tmp_path / "project"
    assert resolve_source("data/d.csv", spec_folder) == str(spec_folder / "data" / "d.csv")
    assert resolve_source("../d.csv", spec_folder) == str(tmp_path / "d.csv")
    monkeypatch.chdir(tmp_path)
    assert resolve_source("d.csv") == str(tmp_path / "d.csv")
    assert resolve_source("/abs/d.csv", spec_folder) == "/abs/d.csv"


def test_prefixes_and_queries_are_kept_and_builtins_have_no_path(tmp_path: Path) -> None:
    assert resolve_source("builtin:digits", tmp_path) == "builtin:digits"
    assert source_path("builtin:digits") is None
    assert resolve_source("text:c.txt", tmp_path) == f"text:{tmp_path / 'c.txt'}"
    assert resolve_source("d.csv?label=y", tmp_path) == f"{tmp_path / 'd.csv'}?label=y"
    assert source_path(f"text:{tmp_path / 'c.txt'}") == tmp_path / "c.txt"
    assert source_path(f"{tmp_path / 'd.csv'}?label=y") == tmp_path / "d.csv"


def test_a_missing_file_names_its_absolute_path_and_near_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "train.csv").write_text("a,b\n1,0\n")
    (tmp_path / "other.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(mnn.DataError) as caught:
        load_data("trian.csv")
    message = str(caught.value)
    assert f"data file not found: {str(tmp_path / 'trian.csv')!r}" in message
    assert "did you mean 'train.csv'" in message and "other.txt" not in message
    assert missing_message(tmp_path / "zzz.npz") == (
        f"data file not found: {str(tmp_path / 'zzz.npz')!r}"
    )


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    message = missing_message(tmp_path / "nope" / "deeper" / "d.csv")
    assert message.endswith(f"(the folder {str(tmp_path / 'nope')!r} does not exist)")
