"""The checkpoint file format: names, version, limits and the per-dataset digest.

This module is the one place that knows the layout (documented for readers in
any language in ``docs/checkpoint-format.md``)::

    /                     attrs: format, format_version, kind, library_version, created
    /spec                 the normalized model spec, JSON text          (model files)
    /provenance/components  JSON list: who provided each component type (model files)
    /weights/<layer>/<name>               every parameter and buffer
    /optimizer            attr type;  iterations (int64 scalar)          (model files,
    /optimizer/slots/<layer>/<name>/<slot>                                when compiled)
    /optimizer/learning_rate_scale  float64 scalar                      (optional)
    /training/epochs_done, /training/global_step  (int64 scalars)      (model files)
    /training/rng_state   JSON text: numpy bit generator state
    /training/history/epoch (int64), /training/history/metrics/<key> (float64)
    /training/early_stopping, /training/reduce_lr   callbacks' state    (optional)
    /data/vocabulary      JSON list: the characters of a text model     (optional)
    /data/class_names     JSON list: class k's name (string labels)     (optional)
    /data/source          JSON: the training data, as given and resolved (optional)
    /data/split           JSON: the test and validation row numbers     (optional)

Every dataset carries a ``sha256`` attribute (hex digest of its data, see
``digest``); non-empty arrays are also chunked with HDF5's fletcher32 filter.
"""

from __future__ import annotations

import hashlib

import numpy as np

FORMAT_NAME = "modular_nn.checkpoint"
FORMAT_VERSION = 1

KIND_MODEL = "model"  #: written by ``model.save``: everything
KIND_WEIGHTS = "weights"  #: written by ``model.save_weights``: /weights only

# Root attributes.
ATTR_FORMAT = "format"
ATTR_FORMAT_VERSION = "format_version"
ATTR_KIND = "kind"
ATTR_LIBRARY_VERSION = "library_version"
ATTR_CREATED = "created"
# Per-dataset / per-group attributes.
ATTR_DIGEST = "sha256"
ATTR_ROLE = "role"  #: on weights: "parameter" or "buffer"
ATTR_TYPE = "type"  #: on /optimizer: the optimizer's type name

ROLE_PARAMETER = "parameter"
ROLE_BUFFER = "buffer"

# Paths (relative to the root).
SPEC = "spec"
PROVENANCE = "provenance"
PROVENANCE_COMPONENTS = "provenance/components"
WEIGHTS = "weights"
OPTIMIZER = "optimizer"
OPTIMIZER_ITERATIONS = "optimizer/iterations"
OPTIMIZER_SLOTS = "optimizer/slots"
#: optional float64 scalar: the rate's factor a callback set (ReduceLROnPlateau); absent: 1
OPTIMIZER_LR_SCALE = "optimizer/learning_rate_scale"
TRAINING = "training"
EPOCHS_DONE = "training/epochs_done"
GLOBAL_STEP = "training/global_step"
#: how many processes trained the model last (data-parallel runs; absent: one)
PROCESSES = "training/processes"
RNG_STATE = "training/rng_state"
EARLY_STOPPING = "training/early_stopping"  #: optional: the best epoch's weights
EARLY_STOPPING_EPOCH = "training/early_stopping/best_epoch"
EARLY_STOPPING_WEIGHTS = "training/early_stopping/best_weights"
REDUCE_LR = "training/reduce_lr"  #: optional: ReduceLROnPlateau's counters (attr monitor)
REDUCE_LR_WAIT = "training/reduce_lr/wait"
REDUCE_LR_COOLDOWN = "training/reduce_lr/cooldown"
REDUCE_LR_BEST = "training/reduce_lr/best"
ATTR_MONITOR = "monitor"  #: on /training/reduce_lr: the logged value it watches
HISTORY = "training/history"
HISTORY_EPOCH = "training/history/epoch"
HISTORY_METRICS = "training/history/metrics"
HISTORY_KEYS = "training/history/keys"  # JSON list: the metric order as logged
DATA = "data"  #: optional: what the model was trained on
VOCABULARY = "data/vocabulary"  #: JSON list of characters (a text: model's ids 1, 2, ...)
CLASS_NAMES = "data/class_names"  #: JSON list of strings: label k is class_names[k]
DATA_SOURCE = "data/source"  #: JSON object: source, path, label, samples
DATA_SPLIT = "data/split"  #: JSON object: the rows held out (modular_nn.data.split)

#: JSON text datasets larger than this are refused before reading.
MAX_TEXT_BYTES = 64 * 2**20
#: Attributes larger than this are refused before reading.
MAX_ATTR_BYTES = 2**16

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def digest(data: np.ndarray | bytes) -> str:
    """SHA-256 (hex) of an array's elements as little-endian bytes in C order, or of bytes."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    array = np.asarray(data, order="C")
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return hashlib.sha256(array.tobytes()).hexdigest()
