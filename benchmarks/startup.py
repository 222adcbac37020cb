"""Start-up time of `provision --help`, `apply --help` and `provision list`, against `conda-lock --version`.

Each command runs as a whole process (interpreter start included), N times; prints the
median and the ratio to conda-lock. Run: python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, capture_output=True, check=True)  # warm the file cache once
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    provision = str(bindir / "provision")
    conda_lock = shutil.which("conda-lock", path=str(bindir)) or shutil.which("conda-lock")
    cases = {
        "provision --help": [provision, "--help"],
        "provision apply --help": [provision, "apply", "--help"],
        "provision list": [provision, "--root", str(REPO), "list"],
        "provision show torch-mps": [provision, "--root", str(REPO), "show", "torch-mps"],
    }
    reference = median_seconds([conda_lock, "--version"], args.runs) if conda_lock else None
    if reference:
        print(f"{'conda-lock --version':<28} {reference * 1000:7.1f} ms")
    measured = {}
    for name, argv in cases.items():
        measured[name] = seconds = median_seconds(argv, args.runs)
        ratio = f"  ({seconds / reference:.2f}x conda-lock)" if reference else ""
        print(f"{name:<28} {seconds * 1000:7.1f} ms{ratio}")
    print(f"apply --help / --help: {measured['provision apply --help'] / measured['provision --help']:.2f}x")


if __name__ == "__main__":
    main()
