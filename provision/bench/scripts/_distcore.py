"""What the distributed checks of every framework share (dist_jax.py, dist_torch.py): their arguments, the
timing of an all-reduce by nccl-tests' definitions, the data-parallel problem and its one-process reference,
and the JSON each rank reports. Standard library and numpy only: it runs in the environment's Python.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

STEPS = 5
TOLERANCE = 1e-5  # relative, float32 sums in another order
FEATURES, PER_RANK = 64, 256
LEARNING_RATE = 0.1


def arguments() -> tuple[str, int, int, list[int]]:
    """COORDINATOR RANKS RANK SIZES_MB (comma-separated)."""
    coordinator, ranks, rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    return coordinator, ranks, rank, [int(s) for s in sys.argv[4].split(",")]


def timed(nbytes: int, megabytes: int, ranks: int, once: Callable[[], None]) -> dict[str, float]:
    """One message size: `once` all-reduces it (and waits for the result); warmed once, then timed.
    algbw = bytes / time, busbw = algbw x 2(n-1)/n (nccl-tests' definitions)."""
    once()
    repeats = 5 if megabytes <= 16 else 2
    started = time.perf_counter()
    for _ in range(repeats):
        once()
    seconds = (time.perf_counter() - started) / repeats
    algbw = nbytes / seconds / 1e9
    return {"bytes": nbytes, "seconds": seconds, "algbw_gbs": algbw, "busbw_gbs": algbw * 2 * (ranks - 1) / ranks}


def problem(ranks: int) -> tuple[Any, Any]:
    """The whole batch of the data-parallel step, the same on every rank: a noisy linear target."""
    import numpy as np

    generator = np.random.default_rng(0)
    inputs = generator.standard_normal((ranks * PER_RANK, FEATURES)).astype(np.float32)
    truth = generator.standard_normal(FEATURES).astype(np.float32)
    targets = inputs @ truth + 0.01 * generator.standard_normal(ranks * PER_RANK).astype(np.float32)
    return inputs, targets


def shard(rank: int) -> slice:
    return slice(rank * PER_RANK, (rank + 1) * PER_RANK)


def ddp_result(inputs: Any, targets: Any, weights: Any) -> dict[str, float]:
    """The loss the distributed weights reach, beside STEPS of plain gradient descent on the whole batch in
    one process, in float64 from the same zero start."""
    import numpy as np

    whole = inputs.astype(np.float64)
    reference = np.zeros(FEATURES, dtype=np.float64)
    for _ in range(STEPS):
        reference = reference - LEARNING_RATE * 2 * (whole.T @ (whole @ reference - targets)) / len(inputs)
    loss = float(np.mean((inputs @ np.asarray(weights, dtype=np.float64).ravel() - targets) ** 2))
    expected = float(np.mean((whole @ reference - targets) ** 2))
    return {"loss": loss, "reference": expected, "difference": abs(loss - expected) / max(abs(expected), 1e-12)}


def rank_result(rank: int, correct: bool, bandwidth: list[dict[str, float]], ddp: dict[str, float], backend: str,
                devices: int) -> dict[str, Any]:  # fmt: skip
    return {"rank": rank, "node": os.environ.get("SLURMD_NODENAME") or os.uname().nodename, "correct": correct,
            "bandwidth": bandwidth, "ddp": ddp, "backend": backend, "devices": devices}  # fmt: skip


def report(ranks: list[Any]) -> dict[str, Any]:
    """What rank 0 prints: every rank's figures, gathered."""
    return {"ranks": ranks, "tolerance": TOLERANCE, "steps": STEPS}
