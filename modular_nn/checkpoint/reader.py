"""Reading checkpoint files safely.

Nothing here executes code from a file: there is no pickle, no object dtype
(variable-length strings, references and compound types are refused), and no
import of anything a file names. Before a file is used at all it must be a
regular file with the HDF5 signature, carry our ``format`` attribute and a
supported ``format_version``, and contain no soft or external links, virtual
datasets or datasets with external storage. Before a dataset is read its dtype
is checked, its claimed size is compared with the size of the whole file (our
datasets are uncompressed, so a larger claim is a lie) and, when the caller
knows it, with the expected shape. After reading, its SHA-256 digest is
verified (and HDF5 verifies fletcher32 per chunk).

Every problem is a ``CheckpointError`` that says what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h5py
import numpy as np

from modular_nn.checkpoint.format import (
    ATTR_DIGEST,
    ATTR_FORMAT,
    ATTR_FORMAT_VERSION,
    ATTR_KIND,
    FORMAT_NAME,
    FORMAT_VERSION,
    HDF5_SIGNATURE,
    KIND_MODEL,
    KIND_WEIGHTS,
    MAX_ATTR_BYTES,
    MAX_TEXT_BYTES,
    digest,
)
from modular_nn.errors import CheckpointError

Shape = tuple[int, ...]

_EXPECTED_DTYPE = {
    "float": "a floating-point dtype (float16, float32 or float64)",
    "int": "an integer dtype",
    "text": "a fixed-length string (UTF-8 text)",
}


#: The largest counter a checkpoint holds (they are written as int64).
INT64_MAX = 2**63 - 1


@contextmanager
def reading(label: str) -> Iterator[None]:
    """Last line of defence: any unexpected exception becomes a ``CheckpointError``."""
    try:
        yield
    except CheckpointError:
        raise
    except (RuntimeError, OSError, SystemError) as exc:  # HDF5 library errors
        raise _damaged(label, exc) from exc
    except Exception as exc:  # noqa: BLE001 - h5py/numpy errors on foreign input
        if isinstance(exc, KeyError) and "Unable to" in str(exc):
            raise _damaged(label, exc) from exc  # h5py: HDF5 cannot decode an object header
        raise CheckpointError(
            f"cannot read checkpoint {label}: unexpected {type(exc).__name__}: {exc}"
        ) from exc


def _damaged(label: str, exc: BaseException) -> CheckpointError:
    return CheckpointError(
        f"cannot read checkpoint {label}: its HDF5 structure is damaged "
        f"({type(exc).__name__}: {exc}); the file is corrupted"
    )


@contextmanager
def open_checkpoint(
    path: str | os.PathLike[str], kinds: tuple[str, ...] = (KIND_MODEL, KIND_WEIGHTS)
) -> Iterator[CheckpointReader]:
    """Open ``path`` read-only after the file-level checks; yield a ``CheckpointReader``.

    ``kinds`` lists the acceptable values of the root ``kind`` attribute.
    """
    try:
        target = os.fspath(path)
    except TypeError:
        raise CheckpointError(f"expected a checkpoint path, received: {path!r}") from None
    if "\x00" in (target if isinstance(target, str) else os.fsdecode(target)):
        raise CheckpointError(f"expected a checkpoint path without NUL, received: {path!r}")
    label = repr(target)
    with reading(label):
        size = _check_file(target, label)
        file = _open_hdf5(target, label, size)
        try:
            reader = CheckpointReader(file, label, size)
            reader.check_header(kinds)
            reader.check_links()
            yield reader
        finally:
            file.close()


def _check_file(target: str, label: str) -> int:
    try:
        info = os.stat(target)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint file not found: {label}") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {label}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise CheckpointError(f"cannot read checkpoint {label}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"cannot read checkpoint {label}: not a regular file")
    if info.st_size == 0:
        raise CheckpointError(f"cannot read checkpoint {label}: not an HDF5 file (it is empty)")
    try:
        with open(target, "rb") as handle:
            head = handle.read(len(HDF5_SIGNATURE))
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {label}: {exc.strerror}") from None
    if len(head) < len(HDF5_SIGNATURE) and HDF5_SIGNATURE.startswith(head):
        raise CheckpointError(
            f"cannot read checkpoint {label}: the file is truncated: it has {len(head)} "
            "bytes, the start of an HDF5 signature and nothing more"
        )
    if head != HDF5_SIGNATURE and not h5py.is_hdf5(target):
        raise CheckpointError(
            f"cannot read checkpoint {label}: not an HDF5 file (no HDF5 signature; "
            f"it starts with {head!r})"
        )
    return int(info.st_size)


#: An HDF5 file's signature, superblock and root group entry take at least this many bytes.
MIN_HDF5_BYTES = 96


def _open_hdf5(target: str, label: str, size: int) -> h5py.File:
    try:
        return h5py.File(target, "r")
    except OSError as exc:
        text = str(exc)
        if size < MIN_HDF5_BYTES:  # HDF5 itself blames whichever header field it reached
            raise CheckpointError(
                f"cannot read checkpoint {label}: the file is truncated: it has {size} bytes, "
                f"fewer than the {MIN_HDF5_BYTES} of an HDF5 file header (an interrupted "
                "copy or download?)"
            ) from None
        if "truncated" in text:
            sizes = re.search(r"\beof = (\d+).*stored_eof = (\d+)", text)
            if sizes and int(sizes.group(2)) > 2**48:  # 256 TiB: a damaged header, not a cut
                raise CheckpointError(
                    f"cannot read checkpoint {label}: its header is corrupted (it claims "
                    f"{int(sizes.group(2)):,} bytes for a file of {size:,})"
                ) from None
            detail = (
                f": it has {sizes.group(1)} bytes but its header says {sizes.group(2)}"
                if sizes
                else ""
            )
            raise CheckpointError(
                f"cannot read checkpoint {label}: the file is truncated{detail} "
                "(an interrupted copy or download?)"
            ) from None
        if "signature" in text:
            raise CheckpointError(f"cannot read checkpoint {label}: not an HDF5 file") from None
        if "unable to lock file" in text.lower():
            raise CheckpointError(
                f"cannot read checkpoint {label}: another process has it open for writing "
                "(HDF5 locks it); close it there, or set HDF5_USE_FILE_LOCKING=FALSE"
            ) from None
        raise CheckpointError(
            f"cannot read checkpoint {label}: HDF5 cannot open it ({text}); its header is "
            "corrupted or it was not written by HDF5"
        ) from None


class CheckpointReader:
    """Checked access to an open checkpoint file; every failure is a ``CheckpointError``."""

    def __init__(self, file: h5py.File, label: str, size: int) -> None:
        self.file = file
        self.label = label
        self.size = size

    def error(self, message: str) -> CheckpointError:
        """A ``CheckpointError`` naming this file."""
        return CheckpointError(f"cannot read checkpoint {self.label}: {message}")

    # ----- file level ----------------------------------------------------------------
    def check_header(self, kinds: tuple[str, ...]) -> None:
        """Format name, version and kind, with a specific message for each problem."""
        root = self.file
        if ATTR_FORMAT not in root.attrs:
            raise self.error("not a modular_nn checkpoint: the HDF5 file has no 'format' attribute")
        name = self.attr(root, ATTR_FORMAT)
        if name != FORMAT_NAME:
            raise self.error(
                f"not a modular_nn checkpoint: format is {name!r}, expected {FORMAT_NAME!r}"
            )
        version = (
            self.attr(root, ATTR_FORMAT_VERSION) if ATTR_FORMAT_VERSION in root.attrs else None
        )
        if not isinstance(version, int):
            raise self.error(
                f"expected an integer 'format_version' attribute, received: {version!r}"
            )
        if version > FORMAT_VERSION:
            from modular_nn import __version__

            raise self.error(
                f"it was written in checkpoint format_version {version}, newer than the "
                f"format_version {FORMAT_VERSION} this modular_nn ({__version__}) reads; "
                "upgrade modular-nn to load it"
            )
        if version < 1:
            raise self.error(
                f"unsupported format_version {version}; this modular_nn reads format_version "
                f"{FORMAT_VERSION}"
            )
        kind = self.attr(root, ATTR_KIND) if ATTR_KIND in root.attrs else None
        if kind not in kinds:
            if kind == KIND_WEIGHTS:
                raise self.error(
                    "it is a weights-only file (written by save_weights), not a full "
                    "checkpoint; build the model from its spec and call model.load_weights"
                )
            expected = " or ".join(repr(k) for k in kinds)
            raise self.error(f"expected a 'kind' attribute of {expected}, received: {kind!r}")

    def check_links(self) -> None:
        """Refuse soft and external links, virtual datasets and external raw storage.

        Uses HDF5's own visitors (link info and object info only), so nothing is
        followed or opened except datasets, whose creation properties are checked.
        """
        links = self.file.id.links

        def visit_link(raw: bytes, info: Any) -> str | None:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                return f"a link name is not valid UTF-8 ({raw!r}); the file is corrupted"
            if info.type == h5py.h5l.TYPE_SOFT:
                target = links.get_val(raw).decode("utf-8", "replace")
                return f"/{name} is a soft link to {target}; links are refused"
            if info.type == h5py.h5l.TYPE_EXTERNAL:
                filename, target = (part.decode("utf-8", "replace") for part in links.get_val(raw))
                return (
                    f"/{name} is an external link to {filename}:{target}; "
                    "external links are refused"
                )
            if info.type != h5py.h5l.TYPE_HARD:
                return f"/{name} is a link of an unsupported type; links are refused"
            return None

        def visit_object(raw: bytes, info: Any) -> str | None:
            if info.type != h5py.h5o.TYPE_DATASET:
                return None
            name = raw.decode("utf-8", "replace")
            plist = h5py.h5d.open(self.file.id, raw).get_create_plist()
            if plist.get_layout() == h5py.h5d.VIRTUAL:
                return f"/{name} is a virtual dataset; virtual datasets are refused"
            if plist.get_external_count():
                return f"/{name} keeps its data in external files; that is refused"
            return self._storage_problem(name, raw, plist)

        try:
            problem = links.visit(visit_link, info=True) or h5py.h5o.visit(
                self.file.id, visit_object, info=True
            )
        except UnicodeDecodeError:
            problem = "a name in it is not valid UTF-8; the file is corrupted"
        if problem:
            raise self.error(problem)

    def _storage_problem(self, name: str, raw: bytes, plist: Any) -> str | None:
        """Filters other than fletcher32 (compression, which could expand a small file into
        gigabytes) and chunks larger than the whole file are refused."""
        for i in range(plist.get_nfilters()):
            code = plist.get_filter(i)[0]
            if code != h5py.h5z.FILTER_FLETCHER32:
                return (
                    f"/{name} is stored through HDF5 filter {code} (compression or another "
                    "transform); only the fletcher32 checksum is accepted"
                )
        if plist.get_layout() == h5py.h5d.CHUNKED:
            dataset = h5py.h5d.open(self.file.id, raw)
            chunk_bytes = math.prod(plist.get_chunk()) * dataset.dtype.itemsize
            if chunk_bytes > self.size:
                return (
                    f"/{name} is stored in chunks of {chunk_bytes:,} bytes, more than the whole "
                    f"file's {self.size:,}"
                )
        return None

    # ----- attributes ----------------------------------------------------------------
    def attr(self, obj: h5py.HLObject, name: str) -> str | int:
        """A scalar text or integer attribute (other types are refused before reading)."""
        info = obj.attrs.get_id(name)
        dtype, shape = info.dtype, info.shape
        where = f"attribute {name!r} of {obj.name}"
        if shape != ():
            raise self.error(f"{where} has shape {shape}, expected a scalar")
        if dtype.kind == "S" and dtype.itemsize <= MAX_ATTR_BYTES:
            raw = bytes(obj.attrs[name])
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self.error(f"{where} is not valid UTF-8 text") from None
        if dtype.kind in "iu":
            return int(obj.attrs[name])
        raise self.error(f"{where} has unsupported type {dtype}; expected text or an integer")

    def text_attr(self, obj: h5py.HLObject, name: str) -> str:
        """A required text attribute."""
        if name not in obj.attrs:
            raise self.error(f"{obj.name} has no {name!r} attribute")
        value = self.attr(obj, name)
        if not isinstance(value, str):
            raise self.error(f"attribute {name!r} of {obj.name} must be text, received: {value}")
        return value

    # ----- structure -------------------------------------------------------------------
    def has(self, path: str) -> bool:
        """Whether ``path`` exists."""
        return path in self.file

    def group(self, path: str) -> h5py.Group:
        """The group at ``path`` (a missing group or a dataset there is an error)."""
        return self._node(path, h5py.Group, "group")

    def dataset(self, path: str) -> h5py.Dataset:
        """The dataset at ``path`` (a missing dataset or a group there is an error)."""
        return self._node(path, h5py.Dataset, "dataset")

    def _node(self, path: str, cls: type, what: str) -> Any:
        node = self.file.get(path)
        if node is None:
            raise self.error(f"missing {what} /{path}")
        if not isinstance(node, cls):
            found = "group" if isinstance(node, h5py.Group) else "dataset"
            raise self.error(f"expected /{path} to be a {what}, found a {found}")
        return node

    def datasets_under(self, path: str) -> dict[str, h5py.Dataset]:
        """Every dataset below the group ``path``, by its path relative to that group."""
        group = self.group(path)
        found: dict[str, h5py.Dataset] = {}

        def visit(name: str, node: Any) -> None:
            if isinstance(node, h5py.Dataset):
                found[name] = node

        group.visititems(visit)  # links were checked on opening: only hard links remain
        return found

    # ----- datasets ---------------------------------------------------------------------
    def check(self, dataset: h5py.Dataset, kind: str, shape: Shape | None = None) -> None:
        """Dtype, claimed size and (when given) shape, checked without reading any data."""
        try:
            dtype = dataset.dtype
        except (ValueError, TypeError) as exc:  # a datatype numpy cannot represent
            raise self.error(
                f"dataset {dataset.name} has a damaged or unsupported datatype ({exc})"
            ) from None
        ok = {
            "float": dtype.kind == "f" and dtype.itemsize in (2, 4, 8),
            "int": dtype.kind in "iu" and dtype.itemsize <= 8,
            "text": dtype.kind == "S",
        }[kind]
        if not ok:
            raise self.error(
                f"dataset {dataset.name} has dtype {_dtype_name(dataset)}, "
                f"expected {_EXPECTED_DTYPE[kind]}"
            )
        claimed_shape = dataset.shape
        if claimed_shape is None:
            raise self.error(f"dataset {dataset.name} has no data (a null dataspace)")
        claimed = math.prod(claimed_shape) * dtype.itemsize
        limit = min(self.size, MAX_TEXT_BYTES) if kind == "text" else self.size
        if claimed > limit:
            raise self.error(
                f"dataset {dataset.name} claims shape {tuple(claimed_shape)} "
                f"({claimed:,} bytes), an absurd size for a file of {self.size:,} bytes; "
                "refused before reading"
            )
        if shape is not None and tuple(claimed_shape) != tuple(shape):
            raise self.error(
                f"dataset {dataset.name} has shape {tuple(claimed_shape)}, expected {tuple(shape)}"
            )

    def read_array(
        self, dataset: h5py.Dataset, kind: str = "float", shape: Shape | None = None
    ) -> np.ndarray:
        """Check, read and verify a numeric dataset."""
        self.check(dataset, kind, shape)
        data = np.asarray(self._read(dataset))
        self._verify(dataset, digest(data))
        return data

    def read_int(self, path: str, *, minimum: int = 0) -> int:
        """A scalar integer dataset, at least ``minimum``."""
        value = int(self.read_array(self.dataset(path), "int", ()))
        if not minimum <= value <= INT64_MAX:  # saving it again needs an int64
            raise self.error(
                f"dataset /{path} is {value}, expected an integer from {minimum} to {INT64_MAX}"
            )
        return value

    def read_text(self, path: str) -> str:
        """A scalar UTF-8 text dataset."""
        dataset = self.dataset(path)
        self.check(dataset, "text", ())
        raw = bytes(self._read(dataset))
        self._verify(dataset, digest(raw))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"dataset {dataset.name} is not valid UTF-8 text") from None

    def read_json(self, path: str) -> Any:
        """A JSON text dataset, parsed (numbers stay numbers; nothing is evaluated)."""
        try:
            return json.loads(self.read_text(path))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise self.error(f"dataset /{path} is not valid JSON: {exc}") from None

    def _read(self, dataset: h5py.Dataset) -> Any:
        try:
            return dataset[()]
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.error(
                f"dataset {dataset.name} cannot be read: its checksum fails or its storage is "
                f"damaged ({exc}); the file is corrupted"
            ) from exc

    def _verify(self, dataset: h5py.Dataset, actual: str) -> None:
        if ATTR_DIGEST not in dataset.attrs:
            raise self.error(f"dataset {dataset.name} has no {ATTR_DIGEST!r} checksum attribute")
        expected = self.attr(dataset, ATTR_DIGEST)
        if expected != actual:
            raise self.error(
                f"dataset {dataset.name} fails its SHA-256 checksum; the file is corrupted"
            )


def _dtype_name(dataset: h5py.Dataset) -> str:
    dtype = dataset.dtype
    if dtype.kind == "O":
        return "object (variable-length or reference type, refused)"
    return str(dtype)
