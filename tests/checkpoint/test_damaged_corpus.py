"""A corpus of damaged and foreign checkpoint files, generated at run time from a good one.

Categories: files truncated at every 1/64th of their length and at every HDF5
object header and dataset; single flipped bytes at every 1/64th, at the first
and last stored byte of every dataset and inside every object header; a damaged
header; missing and extra groups and datasets; datasets of the wrong dtype,
shape or rank; strings, objects, compound and other types where numbers belong;
huge claimed shapes; soft links, external links (to a real checkpoint and to a
FIFO), a virtual dataset and external raw storage; an embedded spec that is
invalid JSON, not an object, or an invalid spec; damaged provenance, checksums
and training state; and files that are not HDF5 at all but are named ``.h5``.

For every file in the corpus:

1. ``mnn.load`` raises ``CheckpointError`` itself, naming the file, with the
   message expected for its case (a flipped byte inside a dataset names that
   dataset). The exception: a flipped byte that HDF5 never reads (free space,
   padding) may leave a file that loads, and then it loads as the good model,
   bit for bit.
2. ``load_weights`` is all-or-nothing: with ``strict=True`` it raises and
   leaves every weight of an existing model unchanged byte for byte, or (damage
   outside ``/weights``) loads exactly the good values; ``strict=False`` never
   copies a damaged value either.
3. Nothing outside the named file is touched: every file in the directory tree
   (the good checkpoint, the external links' targets beside it) keeps its
   bytes and mtime, no file appears or disappears, and the FIFO that the
   external links point at is never opened (a thread watches it).

The number of files per category is printed under "reliability counts".
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.writer import set_text_attr, write_array, write_text
from modular_nn.errors import CheckpointError, SpecError

Damage = Callable[[Path], None]
#: What a flipped byte outside any dataset's data may produce (never the catch-all
#: "unexpected <Exception>"): each names the part of the file that is wrong.
METADATA_DAMAGE = (
    r"damaged|corrupted|truncated|checksum|missing|unexpected in the file|"
    r"not a modular_nn checkpoint|format_version|has dtype|has shape|HDF5 cannot open it"
)


@dataclass(frozen=True)
class Case:
    """One damaged file: ``damage`` turns a copy of the good checkpoint into it."""

    name: str
    damage: Damage
    expected: str  #: a regular expression the CheckpointError's message must match
    may_load: bool = False  #: a flip in bytes HDF5 never reads may leave a loadable file
    cause: type[BaseException] | None = None  #: the expected ``__cause__``


@dataclass
class Env:
    """The good checkpoint, where its damaged copies go, and the files beside them."""

    root: Path
    good: bytes
    good_model: mnn.Model
    target: mnn.Model  #: an existing model (other seed) that load_weights loads into
    beside: Path  #: a sibling directory: other.h5 (a good copy), trap.h5 (a FIFO), raw.bin
    layout: dict[str, Any]  #: object header addresses and dataset data extents of the good file
    same_state: Callable[[mnn.Model, mnn.Model], bool]

    @property
    def path(self) -> Path:
        return self.root / "case" / "run.h5"


# ----- making damage --------------------------------------------------------------------------
def edited(change: Callable[[h5py.File], Any]) -> Damage:
    """Damage by editing the file with h5py."""

    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as file:
            change(file)

    return damage


def replace_array(name: str, data: Any) -> Damage:
    """Swap a dataset for another with a valid digest, so only the intended flaw remains."""

    def change(file: h5py.File) -> None:
        del file[name]
        write_array(file, name, np.asarray(data))

    return edited(change)


def replace_text(name: str, text: str) -> Damage:
    def change(file: h5py.File) -> None:
        del file[name]
        write_text(file, name, text)

    return edited(change)


def replace_dataset(name: str, **create: Any) -> Damage:
    """Swap a dataset for ``create_dataset(name, **create)`` (any type, no digest)."""

    def change(file: h5py.File) -> None:
        del file[name]
        file.create_dataset(name, **create)

    return edited(change)


def delete(name: str) -> Damage:
    return edited(lambda file: file.__delitem__(name))


def content(data: bytes) -> Damage:
    return lambda path: path.write_bytes(data)


def truncated_to(size: int) -> Damage:
    def damage(path: Path) -> None:
        with open(path, "r+b") as handle:
            handle.truncate(size)

    return damage


def flipped(offset: int, mask: int) -> Damage:
    def damage(path: Path) -> None:
        with open(path, "r+b") as handle:
            handle.seek(offset)
            byte = handle.read(1)[0]
            handle.seek(offset)
            handle.write(bytes([byte ^ mask]))

    return damage


def file_layout(path: Path) -> dict[str, Any]:
    """Object header addresses and the stored extent of every dataset's data."""
    headers: list[int] = []
    extents: list[tuple[int, int, str]] = []  # [start, end) and the dataset's name

    def visit(name: str, node: Any) -> None:
        headers.append(h5py.h5o.get_info(node.id).addr)
        if not isinstance(node, h5py.Dataset):
            return
        if node.chunks:
            for index in range(node.id.get_num_chunks()):
                chunk = node.id.get_chunk_info(index)
                extents.append((chunk.byte_offset, chunk.byte_offset + chunk.size, name))
        else:
            offset = node.id.get_offset()
            extents.append((offset, offset + node.id.get_storage_size(), name))

    with h5py.File(path, "r") as file:
        headers.append(h5py.h5o.get_info(file["/"].id).addr)
        file.visititems(visit)
    return {"headers": sorted(headers), "extents": sorted(extents)}


def dataset_at(env: Env, offset: int) -> str | None:
    for start, end, name in env.layout["extents"]:
        if start <= offset < end:
            return name
    return None


# ----- the corpus, by category ----------------------------------------------------------------
def truncations(env: Env) -> list[Case]:
    size = len(env.good)
    starts = [start for start, _, _ in env.layout["extents"]]
    offsets = {size * k // 64 for k in range(64)} | {1, 7, 8, 95, 96, size - 1}
    offsets |= {o for o in env.layout["headers"] + starts if 0 < o < size}
    cases = []
    for offset in sorted(offsets):
        if offset == 0:
            expected = r"not an HDF5 file \(it is empty\)"
        elif offset < 8:
            expected = f"truncated: it has {offset} bytes, the start of an HDF5 signature"
        elif offset < 96:
            expected = f"truncated: it has {offset} bytes, fewer than the 96 of an HDF5 file header"
        else:
            expected = f"the file is truncated: it has {offset} bytes but its header says {size}"
        cases.append(Case(f"cut at byte {offset}", truncated_to(offset), expected))
    return cases


def flips(env: Env) -> list[Case]:
    size = len(env.good)
    offsets = {size * k // 64 for k in range(64)}
    for start, end, _ in env.layout["extents"]:
        offsets |= {start, end - 1}
    for header in env.layout["headers"]:
        offsets |= {header + delta for delta in (0, 13) if header + delta < size}
    cases = []
    for offset in sorted(offsets):
        mask = 1 << (offset % 8)
        name = dataset_at(env, offset)
        if name is not None:  # fletcher32 or SHA-256 catches it, and the dataset is named
            expected, may_load = rf"dataset /{re.escape(name)} .*corrupted", False
        else:  # metadata, or bytes HDF5 never reads
            expected, may_load = METADATA_DAMAGE, True
        cases.append(
            Case(
                f"bit {offset % 8} of byte {offset} flipped",
                flipped(offset, mask),
                expected,
                may_load,
            )
        )
    return cases


def header_damage(env: Env) -> list[Case]:
    def foreign(path: Path) -> None:
        with h5py.File(path, "w") as file:
            file["data"] = np.arange(3)

    def attr(name: str, value: Any) -> Damage:
        return edited(lambda f: f.attrs.create(name, value))

    def text_attr(name: str, value: str) -> Damage:
        return edited(lambda f: set_text_attr(f, name, value))

    return [
        Case(
            "a foreign HDF5 file",
            foreign,
            "not a modular_nn checkpoint: the HDF5 file has no 'format'",
        ),
        Case(
            "format 'keras'",
            text_attr("format", "keras"),
            "format is 'keras', expected 'modular_nn.checkpoint'",
        ),
        Case(
            "format_version 2",
            attr("format_version", np.int64(2)),
            "format_version 2, newer than .*upgrade modular-nn",
        ),
        Case(
            "format_version 0", attr("format_version", np.int64(0)), "unsupported format_version 0"
        ),
        Case(
            "format_version -3",
            attr("format_version", np.int64(-3)),
            "unsupported format_version -3",
        ),
        Case(
            "format_version as text",
            text_attr("format_version", "1"),
            "expected an integer 'format_version'",
        ),
        Case(
            "format_version as a float",
            attr("format_version", 1.0),
            "'format_version' of / has unsupported type float64",
        ),
        Case(
            "format as an array",
            attr("format", np.array([b"a", b"b"])),
            "'format' of / has shape \\(2,\\), expected a scalar",
        ),
        Case(
            "no kind",
            edited(lambda f: f.attrs.__delitem__("kind")),
            "expected a 'kind' attribute of 'model', received: None",
        ),
        Case(
            "kind 'banana'",
            text_attr("kind", "banana"),
            "expected a 'kind' attribute of 'model', received: 'banana'",
        ),
    ]


def structure_damage(env: Env) -> list[Case]:
    def extra(name: str) -> Damage:
        return edited(lambda f: write_array(f, name, np.zeros(2, np.float32)))

    def group_instead(name: str) -> Damage:
        return edited(lambda f: (f.__delitem__(name), f.create_group(name)))

    def several(file: h5py.File) -> None:
        del file["weights/dense_1/bias"]
        del file["weights/batch_norm_1/moving_mean"]
        write_array(file, "weights/dense_9/kernel", np.zeros(2, np.float32))

    cases = [
        Case(f"missing group /{group}", delete(group), f"missing group /{group}")
        for group in ["weights", "optimizer", "optimizer/slots", "training", "training/history"]
    ]
    cases += [
        Case(f"missing dataset /{name}", delete(name), f"missing dataset /{name}")
        for name in [
            "spec",
            "provenance/components",
            "optimizer/iterations",
            "training/epochs_done",
            "training/global_step",
            "training/rng_state",
            "training/history/epoch",
        ]
    ]
    return cases + [
        Case(
            "several missing and unexpected weights, all named",
            edited(several),
            "missing from the file: dense_1/bias\n.*missing from the file: batch_norm_1/moving_mean"
            "\n.*unexpected in the file: dense_9/kernel",
        ),
        Case(
            "missing group /provenance",
            delete("provenance"),
            "missing dataset /provenance/components",
        ),
        Case(
            "missing layer group",
            delete("weights/dense_1"),
            "missing from the file: dense_1/kernel\n.*missing from the file: dense_1/bias",
        ),
        Case(
            "missing weight",
            delete("weights/batch_norm_1/moving_mean"),
            "weights do not match its spec:\n  - missing from the file: batch_norm_1/moving_mean",
        ),
        Case(
            "missing optimizer slot",
            delete("optimizer/slots/dense_1/kernel/m"),
            "optimizer state does not match .*\n  - missing from the file: dense_1/kernel/m",
        ),
        Case(
            "extra weights group",
            extra("weights/dense_9/kernel"),
            "unexpected in the file: dense_9/kernel",
        ),
        Case(
            "extra weight", extra("weights/dense_1/extra"), "unexpected in the file: dense_1/extra"
        ),
        Case(
            "extra optimizer slot",
            extra("optimizer/slots/dense_1/kernel/w"),
            "unexpected in the file: dense_1/kernel/w",
        ),
        Case(
            "extra optimizer group",
            extra("optimizer/slots/dense_9/kernel/m"),
            "unexpected in the file: dense_9/kernel/m",
        ),
        Case(
            "a group where a dataset belongs",
            group_instead("training/epochs_done"),
            "expected /training/epochs_done to be a dataset, found a group",
        ),
        Case(
            "a group as the spec",
            group_instead("spec"),
            "expected /spec to be a dataset, found a group",
        ),
        Case(
            "a dataset where a group belongs",
            edited(
                lambda f: (
                    f.__delitem__("training/history"),
                    write_array(f, "training/history", np.zeros(2)),
                )
            ),
            "expected /training/history to be a group, found a dataset",
        ),
        Case(
            "a group in place of a weight",
            group_instead("weights/dense_1/kernel"),
            "missing from the file: dense_1/kernel",
        ),
    ]


def type_and_shape_damage(env: Env) -> list[Case]:
    kernel = "weights/dense_1/kernel"
    huge = {"shape": (2**40, 2), "chunks": (1, 2)}  # never written: the file stays small
    absurd = "absurd size for a file of .* refused before reading"
    return [
        # numbers of the wrong kind
        Case(
            "int32 kernel",
            replace_array(kernel, np.zeros((4, 6), np.int32)),
            f"dataset /{kernel} has dtype int32, expected a floating-point",
        ),
        Case(
            "bool kernel",
            replace_array(kernel, np.zeros((4, 6), bool)),
            f"dataset /{kernel} has dtype bool",
        ),
        Case(
            "complex kernel",
            replace_dataset(kernel, data=np.zeros((4, 6), np.complex64)),
            f"dataset /{kernel} has dtype complex64",
        ),
        Case(
            "float128 kernel",
            replace_dataset(kernel, shape=(4, 6), dtype=np.longdouble),
            f"dataset /{kernel} has dtype float128",
        ),
        Case(
            "uint8 optimizer slot",
            replace_array("optimizer/slots/dense_1/kernel/m", np.zeros((4, 6), np.uint8)),
            "slots/dense_1/kernel/m has dtype uint8",
        ),
        Case(
            "float epochs_done",
            replace_array("training/epochs_done", np.float64(2.0)),
            "dataset /training/epochs_done has dtype float64, expected an integer",
        ),
        Case(
            "float32 history epochs",
            replace_array("training/history/epoch", np.zeros(2, np.float32)),
            "dataset /training/history/epoch has dtype float32",
        ),
        Case(
            "spec stored as a number",
            replace_array("spec", np.int64(1)),
            "dataset /spec has dtype int64, expected a fixed-length string",
        ),
        # strings, objects and other types where floats belong
        Case(
            "fixed-length strings as a kernel",
            replace_dataset(kernel, data=np.full((4, 6), b"1.0")),
            f"dataset /{kernel} has dtype \\|S3",
        ),
        Case(
            "variable-length strings as a kernel",
            replace_dataset(kernel, data=[["a"] * 6] * 4, dtype=h5py.string_dtype()),
            f"/{kernel} has dtype object .*refused",
        ),
        Case(
            "variable-length floats as a kernel",
            replace_dataset(kernel, shape=(4, 6), dtype=h5py.vlen_dtype("f4")),
            f"/{kernel} has dtype object .*refused",
        ),
        Case(
            "object references as a kernel",
            replace_dataset(kernel, shape=(4, 6), dtype=h5py.ref_dtype),
            f"/{kernel} has dtype object .*refused",
        ),
        Case(
            "compound kernel",
            replace_dataset(kernel, shape=(4, 6), dtype=[("re", "f4"), ("im", "f4")]),
            f"dataset /{kernel} has dtype \\[\\('re', '<f4'\\), \\('im', '<f4'\\)\\]",
        ),
        Case(
            "enum kernel",
            replace_dataset(
                kernel, shape=(4, 6), dtype=h5py.enum_dtype({"a": 0, "b": 1}, basetype="i1")
            ),
            f"dataset /{kernel} has dtype int8",
        ),
        Case(
            "opaque kernel",
            replace_dataset(kernel, shape=(4, 6), dtype="V4"),
            f"dataset /{kernel} has dtype \\|V4",
        ),
        Case(
            "array-typed kernel",
            replace_dataset(kernel, shape=(4, 6), dtype=np.dtype("(2,)f4")),
            f"dataset /{kernel} has dtype \\('<f4', \\(2,\\)\\)",
        ),
        Case(
            "variable-length string spec",
            replace_dataset("spec", data="{}", dtype=h5py.string_dtype()),
            "dataset /spec has dtype object",
        ),
        Case(
            "text epochs_done",
            replace_text("training/epochs_done", "2"),
            "/training/epochs_done has dtype \\|S1, expected an integer",
        ),
        Case(
            "empty (null) epochs_done",
            replace_dataset("training/epochs_done", data=h5py.Empty("i8")),
            "/training/epochs_done has no data \\(a null dataspace\\)",
        ),
        # shapes and ranks
        Case(
            "transposed kernel",
            replace_array(kernel, np.zeros((6, 4), np.float32)),
            "dense_1/kernel: model has shape \\(4, 6\\), file has \\(6, 4\\)",
        ),
        Case(
            "rank-3 kernel",
            replace_array(kernel, np.zeros((4, 6, 1), np.float32)),
            "dense_1/kernel: model has shape \\(4, 6\\), file has \\(4, 6, 1\\)",
        ),
        Case(
            "scalar kernel",
            replace_array(kernel, np.float32(1)),
            "dense_1/kernel: model has shape \\(4, 6\\), file has \\(\\)",
        ),
        Case(
            "empty kernel",
            replace_array(kernel, np.zeros((0, 6), np.float32)),
            "dense_1/kernel: model has shape \\(4, 6\\), file has \\(0, 6\\)",
        ),
        Case(
            "optimizer slot of the wrong shape",
            replace_array("optimizer/slots/dense_2/bias/v", np.zeros(3, np.float32)),
            "dense_2/bias/v: model has shape \\(1,\\), file has \\(3,\\)",
        ),
        Case(
            "global_step of rank 1",
            replace_array("training/global_step", np.array([10], np.int64)),
            "/training/global_step has shape \\(1,\\), expected \\(\\)",
        ),
        Case(
            "spec of rank 1",
            replace_dataset("spec", data=np.array([b"{}", b"{}"])),
            "dataset /spec has shape \\(2,\\), expected \\(\\)",
        ),
        Case(
            "2-D history epochs",
            replace_array("training/history/epoch", np.ones((2, 1), np.int64)),
            "/training/history/epoch must be one-dimensional",
        ),
        Case(
            "2-D history metric",
            replace_array("training/history/metrics/loss", np.ones((2, 1))),
            "/training/history/metrics/loss must be one-dimensional",
        ),
        # sizes claimed beyond the whole file, refused before any read
        Case("8 TiB kernel", replace_dataset(kernel, dtype="f4", **huge), absurd),
        Case(
            "16 TiB history",
            replace_dataset("training/history/metrics/loss", dtype="f8", **huge),
            absurd,
        ),
        Case("64 TiB spec", replace_dataset("spec", dtype="S64", **huge), absurd),
        Case("2 GiB scalar spec", replace_dataset("spec", shape=(), dtype="S2147483647"), absurd),
    ]


def link_damage(env: Env) -> list[Case]:
    def link(name: str, value: Any, *, replace: bool = True) -> Damage:
        def change(file: h5py.File) -> None:
            if replace:
                del file[name]
            file[name] = value

        return edited(change)

    def virtual(file: h5py.File) -> None:
        layout = h5py.VirtualLayout(shape=(4, 6), dtype="f4")
        layout[:] = h5py.VirtualSource("../beside/other.h5", "weights/dense_1/kernel", shape=(4, 6))
        del file["weights/dense_1/kernel"]
        file.create_virtual_dataset("weights/dense_1/kernel", layout)

    def external_storage(file: h5py.File) -> None:
        del file["weights/dense_1/kernel"]
        file.create_dataset(
            "weights/dense_1/kernel",
            shape=(4, 6),
            dtype="f4",
            external=[("../beside/raw.bin", 0, 96)],
        )

    refused = "external links are refused"
    return [
        Case(
            "soft link beside the weights",
            link("weights/alias", h5py.SoftLink("/weights/dense_1"), replace=False),
            "/weights/alias is a soft link to /weights/dense_1; links are refused",
        ),
        Case(
            "soft link as a weight",
            link("weights/dense_1/kernel", h5py.SoftLink("/weights/dense_2/kernel")),
            "/weights/dense_1/kernel is a soft link to /weights/dense_2/kernel",
        ),
        Case(
            "dangling soft link",
            link("training/epochs_done", h5py.SoftLink("/nowhere")),
            "/training/epochs_done is a soft link to /nowhere",
        ),
        Case(
            "external link to a good checkpoint",
            link("weights", h5py.ExternalLink("../beside/other.h5", "/weights")),
            f"/weights is an external link to ../beside/other.h5:/weights; {refused}",
        ),
        Case(
            "external link to a FIFO",
            link("spec", h5py.ExternalLink("../beside/trap.h5", "/spec")),
            f"/spec is an external link to ../beside/trap.h5:/spec; {refused}",
        ),
        Case(
            "extra external link",
            link("extra", h5py.ExternalLink("../beside/trap.h5", "/"), replace=False),
            f"/extra is an external link to ../beside/trap.h5:/; {refused}",
        ),
        Case(
            "absolute external link",
            link(
                "weights/dense_1/bias",
                h5py.ExternalLink(str(env.beside / "other.h5"), "/weights/dense_1/bias"),
            ),
            refused,
        ),
        Case(
            "virtual dataset",
            edited(virtual),
            "/weights/dense_1/kernel is a virtual dataset; virtual datasets are refused",
        ),
        Case(
            "external raw storage",
            edited(external_storage),
            "/weights/dense_1/kernel keeps its data in external files; that is refused",
        ),
    ]


def content_damage(env: Env) -> list[Case]:
    with h5py.File(env.root / "run.h5", "r") as file:
        spec = json.loads(bytes(file["spec"][()]).decode())

    def spec_with(**layer_changes: Any) -> str:
        changed = json.loads(json.dumps(spec))
        changed["layers"][0].update(layer_changes)
        return json.dumps(changed)

    def raw_text(name: str, raw: bytes) -> Damage:
        def change(file: h5py.File) -> None:
            del file[name]
            file.create_dataset(name, data=np.array(raw, dtype=f"S{len(raw)}"))
            set_text_attr(file[name], "sha256", hashlib.sha256(raw).hexdigest())

        return edited(change)

    invalid = "its embedded spec is invalid"
    provenance = [
        {
            "kind": "layers",
            "name": "acme.dense",
            "plugin": "acme",
            "distribution": "acme-layers",
            "version": "2.0",
        }
    ]
    pcg = {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}
    return [
        Case(
            "spec that is not JSON",
            replace_text("spec", "{not json"),
            "dataset /spec is not valid JSON",
        ),
        Case(
            "spec that is a JSON string",
            replace_text("spec", '"/etc/passwd"'),
            "/spec must hold a JSON object, received: str",
        ),
        Case(
            "spec that is a JSON list",
            replace_text("spec", "[1, 2]"),
            "/spec must hold a JSON object, received: list",
        ),
        Case(
            "spec nested 100,000 deep",
            replace_text("spec", "[" * 100_000 + "]" * 100_000),
            "dataset /spec is not valid JSON",
        ),
        Case(
            "spec that is not UTF-8",
            raw_text("spec", b'{"name": "\xff"}'),
            "dataset /spec is not valid UTF-8 text",
        ),
        Case(
            "invalid spec",
            replace_text("spec", spec_with(units=0)),
            f"{invalid}: .*units",
            cause=SpecError,
        ),
        Case(
            "spec with a NaN option",
            replace_text("spec", spec_with(units=float("nan"))),
            f"{invalid}: .*units",
            cause=SpecError,
        ),
        Case(
            "spec asking for 10^12 parameters",
            replace_text("spec", spec_with(units=10**12)),
            f"{invalid}: .*'dense_1' would have 5,000,000,000,000 parameters",
            cause=SpecError,
        ),
        Case(
            "spec of another architecture",
            replace_text("spec", spec_with(units=7)),
            "weights do not match its spec:\n"
            r".*dense_1/kernel: model has shape \(4, 7\), file has \(4, 6\)",
        ),
        Case(
            "provenance that is not JSON",
            replace_text("provenance/components", "[{"),
            "dataset /provenance/components is not valid JSON",
        ),
        Case(
            "malformed provenance",
            replace_text("provenance/components", '[{"kind": "layers"}]'),
            "/provenance/components is malformed",
        ),
        Case(
            "provenance naming a missing plugin",
            replace_text("provenance/components", json.dumps(provenance)),
            "needs components that are not available: .*acme-layers",
        ),
        Case(
            "zeroed checksum",
            edited(lambda f: set_text_attr(f["weights/dense_1/kernel"], "sha256", "0" * 64)),
            "dataset /weights/dense_1/kernel fails its SHA-256 checksum",
        ),
        Case(
            "missing checksum",
            edited(lambda f: f["training/global_step"].attrs.__delitem__("sha256")),
            "dataset /training/global_step has no 'sha256' checksum",
        ),
        Case(
            "optimizer state of another optimizer",
            edited(lambda f: set_text_attr(f["optimizer"], "type", "sgd")),
            "/optimizer holds the state of 'sgd'",
        ),
        Case(
            "optimizer without its type",
            edited(lambda f: f["optimizer"].attrs.__delitem__("type")),
            "/optimizer has no 'type' attribute",
        ),
        Case(
            "rng state of another generator",
            replace_text("training/rng_state", '{"bit_generator": "MT19937"}'),
            "must be the state of a PCG64 generator",
        ),
        Case(
            "invalid rng state",
            replace_text("training/rng_state", json.dumps(pcg)),
            "is not a valid PCG64 state",
        ),
        Case(
            "negative epoch count",
            replace_array("training/epochs_done", np.int64(-1)),
            "/training/epochs_done is -1, expected an integer from 0 to",
        ),
        Case(
            "epoch count beyond int64",
            replace_array("training/epochs_done", np.uint64(2**64 - 1)),
            f"/training/epochs_done is {2**64 - 1}, expected an integer from 0 to {2**63 - 1}",
        ),
    ]


def not_hdf5(env: Env) -> list[Case]:
    class Payload:  # unpickling this would create beside/pwned
        def __reduce__(self) -> Any:
            return (open, (str(env.beside / "pwned"), "w"))

    rng = np.random.default_rng(9)
    no_signature = "not an HDF5 file \\(no HDF5 signature; it starts with "
    return [
        Case("empty file", content(b""), "not an HDF5 file \\(it is empty\\)"),
        Case("text", content(b"{'not': 'hdf5'}\n" * 40), no_signature),
        Case(
            "a JSON spec named .h5",
            content(json.dumps({"input_shape": [4], "layers": []}).encode()),
            no_signature,
        ),
        Case("a pickle", content(pickle.dumps(Payload())), no_signature),
        Case("a PNG image", content(b"\x89PNG\r\n\x1a\n" + bytes(200)), no_signature),
        Case("a zip archive", content(b"PK\x03\x04" + bytes(200)), no_signature),
        Case("gzip of the checkpoint", content(b"\x1f\x8b\x08\x00" + env.good[:500]), no_signature),
        Case("random bytes", content(rng.bytes(4096)), no_signature),
        Case(
            "an HDF5 signature then random bytes",
            content(env.good[:8] + rng.bytes(4096)),
            "HDF5 cannot open it|header is corrupted|truncated",
        ),
    ]


CATEGORIES: dict[str, Callable[[Env], list[Case]]] = {
    "truncated files": truncations,
    "flipped bytes": flips,
    "damaged headers": header_damage,
    "missing and extra groups and datasets": structure_damage,
    "wrong dtypes, shapes, types and sizes": type_and_shape_damage,
    "links and foreign storage": link_damage,
    "embedded spec, provenance, checksums and state": content_damage,
    "not HDF5 files named .h5": not_hdf5,
}


# ----- checking one file ---------------------------------------------------------------------
def tree_snapshot(root: Path) -> dict[str, tuple]:
    """Every entry below ``root``: kind, size, mtime and (regular files) content digest."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            digest = None
            if stat.S_ISREG(info.st_mode):  # never open the FIFO
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            key = os.path.relpath(path, root)
            found[key] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, digest)
    return found


@contextmanager
def watching_fifo(fifo: Path) -> Iterator[list[str]]:
    """Yield a list that gets an entry if anything opens ``fifo`` for reading meanwhile.

    A reader blocks in open() until a writer appears; this thread keeps trying to
    open the FIFO as a non-blocking writer, which succeeds only while a reader has it.
    """
    opened: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody has it open for reading
                stop.wait(0.005)
                continue
            opened.append("opened")
            os.close(fd)  # the reader sees end of file and gives up

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        stop.set()
        thread.join()


def problems_with(case: Case, env: Env) -> tuple[list[str], bool]:
    """What is wrong with how ``case`` is answered (nothing when all three properties hold),
    and whether the file loaded."""
    path = env.path
    path.write_bytes(env.good)
    case.damage(path)
    problems = []
    before = tree_snapshot(env.root)
    loads = False
    try:
        loaded = mnn.load(path)
    except CheckpointError as exc:
        message = str(exc)
        if type(exc) is not CheckpointError:
            problems.append(f"raised {type(exc).__name__}, a subclass")
        if repr(str(path)) not in message:
            problems.append(f"the message does not name the file: {message}")
        if not re.search(case.expected, message, re.DOTALL):
            problems.append(f"expected a message matching {case.expected!r}, got: {message}")
        if re.search(r": unexpected \w+: ", message):
            problems.append(f"the catch-all answered: {message}")
        if case.cause is not None and not isinstance(exc.__cause__, case.cause):
            problems.append(f"expected a {case.cause.__name__} as the cause: {exc.__cause__!r}")
    else:
        loads = True
        if not case.may_load:
            problems.append("mnn.load succeeded")
        elif not env.same_state(loaded, env.good_model):
            problems.append("mnn.load succeeded with a model that differs from the good one")
    if not (loads and case.may_load):  # an intact file loads whole into any model
        problems += load_weights_problems(env)
    if tree_snapshot(env.root) != before:
        problems.append("a file in the directory tree changed, appeared or disappeared")
    return problems, loads


def load_weights_problems(env: Env) -> list[str]:
    """``load_weights`` into an existing model: all or nothing, never a damaged value."""
    target, good = env.target, env.good_model.get_weights()
    initial = target.get_weights()
    problems = []
    for strict in (True, False):
        try:
            report = target.load_weights(env.path, strict=strict)
        except CheckpointError:
            loaded: list[str] = []
        else:
            loaded = report.loaded
            if strict and sorted(loaded) != sorted(good):
                problems.append(f"strict load_weights loaded only {loaded}")
        now = target.get_weights()
        for name, value in now.items():
            expected = good[name] if name in loaded else initial[name]
            if value.tobytes() != expected.tobytes():
                problems.append(f"load_weights(strict={strict}) left {name} partially loaded")
        target.set_weights(initial)
    return problems


@pytest.fixture
def env(
    checkpoint: Path, trained: mnn.Model, tiny_spec: Any, same_state: Any, tmp_path: Path
) -> Env:
    beside = tmp_path / "beside"
    beside.mkdir()
    (tmp_path / "case").mkdir()
    shutil.copy(checkpoint, beside / "other.h5")
    (beside / "raw.bin").write_bytes(bytes(96))
    os.mkfifo(beside / "trap.h5")
    target = mnn.build_model(tiny_spec(seed=99))
    good = checkpoint.read_bytes()
    return Env(tmp_path, good, trained, target, beside, file_layout(checkpoint), same_state)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_damaged_file_is_refused_specifically_and_changes_nothing(
    category: str, env: Env, reliability_counts: Counter
) -> None:
    cases = CATEGORIES[category](env)
    failures = {}
    intact = 0
    with watching_fifo(env.beside / "trap.h5") as opened:
        for case in cases:
            problems, loads = problems_with(case, env)
            if problems:
                failures[case.name] = problems
            intact += loads
    assert not opened, "the FIFO beside the checkpoint was opened: an external link was followed"
    assert not failures, "\n".join(f"{name}: {'; '.join(p)}" for name, p in failures.items())
    reliability_counts[f"damaged checkpoints: {category}"] += len(cases)
    reliability_counts["damaged checkpoints: all files of the corpus"] += len(cases)
    if intact:
        label = f"damaged checkpoints: {category}, in bytes HDF5 never reads (loads intact)"
        reliability_counts[label] += intact


def test_the_fifo_watch_sees_a_reader(tmp_path: Path) -> None:
    """The watch above is not vacuous: opening the FIFO to read is seen (and ends at once)."""
    fifo = tmp_path / "trap.h5"
    os.mkfifo(fifo)
    with watching_fifo(fifo) as opened:
        with open(fifo, "rb") as handle:  # blocks until the watch opens the other end
            assert handle.read() == b""
    assert opened
