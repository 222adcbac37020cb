"""Shared by the benchmark scripts: whole-process timing (interpreter start-up included)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds for one run of `argv` to completion; a failure raises."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start
