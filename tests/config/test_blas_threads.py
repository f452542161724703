"""The node runs numpy's and scipy's BLAS on one thread unless the operator chose a number."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# A fresh interpreter: BLAS libraries read their thread count once, as they are loaded.
PROBE = """
import json
import numpy  # numpy's OpenBLAS: loaded before the limit
from codesage.config.blas_threads import limit_blas_threads
applied = limit_blas_threads()
import scipy.linalg  # scipy's own OpenBLAS: loaded after it
from threadpoolctl import threadpool_info
blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
print(json.dumps({"applied": applied, "blas_threads": blas}))
"""


def probe(**variables: str) -> tuple[bool, list[int]]:
    """Whether the limit applied, and the thread count of each BLAS library loaded."""
    chosen = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
    env = {name: value for name, value in os.environ.items() if name not in chosen}
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**env, **variables},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(run.stdout)
    return bool(result["applied"]), [int(threads) for threads in result["blas_threads"]]


def test_blas_loaded_before_and_after_the_limit_runs_one_thread() -> None:
    applied, blas_threads = probe()
    assert applied is True
    # numpy's and scipy's copies of OpenBLAS (on a machine with one core, 1 whatever we do).
    assert blas_threads and set(blas_threads) == {1}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="BLAS runs one thread on one core anyway")
@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_an_operators_own_thread_count_wins(variable: str) -> None:
    applied, blas_threads = probe(**{variable: "2"})
    assert applied is False
    assert set(blas_threads) == {2}
