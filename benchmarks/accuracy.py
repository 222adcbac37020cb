"""Are our TFLOPS honest? The same CPU fp32 GEMM timed by our protocol (provision's
_benchcore.time_op) and by torch.utils.benchmark.Timer (blocked_autorange), in one run.

Run with an interpreter that has torch: .venv-bench/bin/python benchmarks/accuracy.py [--n 1024]
They should agree within 15 %.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "provision" / "bench" / "scripts"))
from _benchcore import time_op


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1024)
    args = parser.parse_args()
    import torch
    from torch.utils import benchmark

    threads = torch.get_num_threads()
    a = torch.randn(args.n, args.n)
    flops = 2.0 * args.n**3
    ours = time_op(lambda: a @ a, lambda _: None, flops, quick=False)["tflops"]  # CPU ops are synchronous
    timer = benchmark.Timer(stmt="a @ a", globals={"a": a}, num_threads=threads)
    measurement = timer.blocked_autorange(min_run_time=2.0)
    independent = flops / measurement.median / 1e12
    print(f"n={args.n}, {threads} threads")
    print(f"provision time_op           : {ours:.4f} TFLOPS")
    print(f"torch.utils.benchmark.Timer : {independent:.4f} TFLOPS")
    print(f"ratio                       : {ours / independent:.3f}")


if __name__ == "__main__":
    main()
