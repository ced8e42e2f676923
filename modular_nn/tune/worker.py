"""``python -m modular_nn.tune.worker PARENT_PID``: one worker process of ``modular-nn tune``.

The settings come as JSON on standard input. ``tune --jobs N`` starts N of
these with the BLAS thread count set in their environment, which NumPy reads
when it loads.
"""

from __future__ import annotations

import sys

from modular_nn.tune.study import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(int(sys.argv[1])))
