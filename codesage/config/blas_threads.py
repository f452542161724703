"""How many threads the BLAS libraries under numpy and scipy run in a node."""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits

NODE_BLAS_THREADS = 1
"""Measured at 6 concurrent spoken interviews: numpy's OpenBLAS kept its second thread
spinning between the small matrix products of every Whisper decode (the mel filter bank),
22 % of a core doing no work. The node's products are small; one thread is enough."""

_OPERATOR_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def limit_blas_threads(threads: int = NODE_BLAS_THREADS) -> bool:
    """Cap the BLAS libraries loaded now and those loaded later at `threads`; False when the
    operator chose already (`OPENBLAS_NUM_THREADS` or `OMP_NUM_THREADS` is set)."""
    if any(name in os.environ for name in _OPERATOR_VARIABLES):
        return False
    # Each OpenBLAS copy (numpy's, scipy's) reads the variable when it is loaded...
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    # ...and the copies loaded already are told directly.
    threadpool_limits(limits=threads, user_api="blas")
    return True
