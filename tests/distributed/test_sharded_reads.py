"""``BatchSource.sharded_batches`` without MPI: the parts of every process, put together,
are the batches ``batches`` gives (same generator, same order), and each process reads
only its rows."""

from __future__ import annotations

from pathlib import Path

import mpi_worker as w
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data.npz import NpzSource
from modular_nn.data.sources import H5Source
from modular_nn.errors import DataError


def sources(folder: Path) -> dict[str, mnn.data.BatchSource]:
    w.write_data_files(folder)
    x, y = w.data()
    np.savez_compressed(folder / "compressed.npz", X=x, y=y)
    return {
        "h5": H5Source(folder / "data.h5", block_rows=16),
        "npz": NpzSource(folder / "data.npz"),
        "compressed npz": NpzSource(folder / "compressed.npz"),
    }


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("size", [2, 3])
def test_the_parts_of_every_process_make_the_global_batches(
    tmp_path: Path, size: int, shuffle: bool
) -> None:
    for name, source in sources(tmp_path).items():
        rng = (lambda: np.random.default_rng(5)) if shuffle else (lambda: None)
        whole = list(source.batches(w.BATCH, rng()))
        parts = [list(source.sharded_batches(w.BATCH, rng(), r, size)) for r in range(size)]
        assert [len(p) for p in parts] == [len(whole)] * size, name
        for i, (x, y) in enumerate(whole):
            np.testing.assert_array_equal(np.concatenate([p[i][0] for p in parts]), x)
            np.testing.assert_array_equal(np.concatenate([p[i][1] for p in parts]), y)
            assert {p[i][2] for p in parts} == {len(x)}, name
        # the dataset's last batch has 2 rows: with 3 processes the last one takes none
        short = next(i for i, (x, _) in enumerate(whole) if len(x) == 2)
        assert len(parts[-1][short][0]) == (0 if size == 3 else 1), name


def test_each_process_reads_only_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = sources(tmp_path)["h5"]
    monkeypatch.setattr(H5Source, "_open", H5Source._open)  # the wrapping is undone after
    counted = w.count_reads(H5Source)
    for rank in range(2):
        counted[0] = 0
        batches = source.sharded_batches(w.BATCH, np.random.default_rng(1), rank, 2)
        rows = sum(len(x) for x, _, _ in batches)
        assert counted[0] == rows == w.SAMPLES // 2


def test_an_npz_source_trains_as_its_arrays(tmp_path: Path) -> None:
    source = sources(tmp_path)["npz"]
    x, y = w.data()
    arrays = mnn.build_model(w.spec(*w.CONFIGS["adam64"]))
    arrays.fit(x, y, verbose=0, validation_split=0.2)
    streamed = mnn.build_model(w.spec(*w.CONFIGS["adam64"]))
    streamed.fit(source, verbose=0, validation_split=0.2)
    np.testing.assert_array_equal(w.weights(streamed), w.weights(arrays))


def test_an_npz_without_the_array_names_the_arrays(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", inputs=np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"no array 'X'; arrays: inputs; choose one with --x-key"):
        NpzSource(tmp_path / "other.npz")
