"""Shared protocol for the acceptance scripts: standard library only, never `provision`.

Scripts run with the target environment's own interpreter; this file sits beside them and
is imported as a sibling module. Timing follows torch.utils.benchmark.Timer and mlx benchmarks/python/time_utils.py:
inputs made and synchronised outside the clock, warm-up excluded, a sync before both
clock reads, blocks of >= 20 ms, median and spread of several samples.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

SCHEMA = 1
# rel_fro tolerances against a float64 reference (from unit roundoff: fp32 6e-8, fp16 4.9e-4, bf16 3.9e-3)
OPS_TOLERANCE = 1e-4  # fp32 softmax*tanh against numpy float64 (see ops_check)
TOLERANCE = {"float64": 1e-12, "float32": 1e-5, "tf32": 5e-3, "float16": 5e-3, "bfloat16": 3e-2}
# (M, K, N): M=1 and M<=8 (decode-like), M>8 (prefill-like), non-square, non-power-of-two
SHAPES = [(1, 64, 96), (7, 129, 65), (33, 255, 130), (257, 384, 200)]


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps", "gpu"])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and samples (about 15 s)")
    parser.add_argument("--sizes", type=int, nargs="*", help="GEMM sizes for throughput")
    parser.add_argument("--model", help="(mlx) a local model folder for the LLM check")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any check FAILs (containers, CI)")
    return parser.parse_args()


class Report:
    """Collects checks and measurements; `emit()` prints the one JSON document."""

    def __init__(self, framework: str, requested: str) -> None:
        self.doc: dict[str, Any] = {
            "schema": SCHEMA,
            "framework": framework,
            "device_requested": requested,
            "device": None,
            "device_kind": None,
            "device_name": None,
            "python": {
                "version": platform.python_version(),
                "machine": platform.machine(),
                "processor": platform.processor(),
            },
            "environment": {},
            "checks": [],
            "throughput": [],
        }
        self.started = time.perf_counter()

    def check(self, name: str, status: str, reason: str, **values: Any) -> None:
        self.doc["checks"].append({"name": name, "status": status, "reason": reason, "values": values})

    def guarded(self, name: str, body: Callable[[], None]) -> None:
        """Run one check; an exception is that check's FAIL, not the end of the report."""
        try:
            body()
        except Exception as exc:  # the framework's errors are exactly what we report
            self.check(name, "FAIL", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")

    def emit(self) -> None:
        self.doc["seconds"] = round(time.perf_counter() - self.started, 2)
        json.dump(self.doc, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        if "--strict" in sys.argv and any(c["status"] == "FAIL" for c in self.doc["checks"]):
            sys.exit(1)


def time_op(op: Callable[[], Any], sync: Callable[[Any], None], flops: float, quick: bool) -> dict[str, Any]:
    """TFLOPS of `op`: warm-up, blocks of >= 20 ms between syncs, median and spread of samples."""
    start = time.perf_counter()
    sync(op())
    slow = time.perf_counter() - start > 0.5  # e.g. bf16 on a CPU without bf16 units: keep the run short
    for _ in range(0 if slow else 2):
        sync(op())
    block = 1
    while True:  # grow the block until one lasts 20 ms, so a sync costs < a few percent
        start = time.perf_counter()
        for _ in range(block):
            result = op()
        sync(result)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02 or block >= 1 << 12:
            break
        block *= 2 if elapsed > 0.002 else 8
    samples = []
    for _ in range(3 if quick or slow else 7):
        start = time.perf_counter()
        for _ in range(block):
            result = op()
        sync(result)
        samples.append(time.perf_counter() - start)
    rates = sorted(flops * block / s / 1e12 for s in samples)
    return {
        "tflops": statistics.median(rates),
        "tflops_min": rates[0],
        "tflops_max": rates[-1],
        "ops_per_sample": block,
        "samples": len(samples),
        "sample_seconds": statistics.median(samples),
    }


def rel_fro(result: Any, reference: Any) -> float:
    """||C - C_ref||_F / ||C_ref||_F with numpy float64 arrays."""
    import numpy as np

    diff = np.linalg.norm(np.asarray(result, dtype=np.float64) - reference)
    norm = np.linalg.norm(reference)
    value = float(diff / norm) if norm else float(diff)
    return value if math.isfinite(value) else float("inf")


def random_inputs(m: int, k: int, n: int, seed: int) -> tuple[Any, Any]:
    """float64 numpy inputs scaled so outputs are O(1) (mlx bench_gemm.py's convention)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = 1.0 / math.sqrt(m + k)
    return rng.standard_normal((m, k)) * scale, rng.standard_normal((k, n))


def ops_check(report: Report, softmax_tanh: Callable[[Any], Any]) -> None:
    """Elementwise and reduction ops beside matmul: softmax(a, axis=1) * tanh(a) on the device
    (numpy float64 in, array-like out) against numpy float64."""
    import numpy as np

    a = np.random.default_rng(7).standard_normal((67, 129))
    ref = np.exp(a - a.max(axis=1, keepdims=True))
    ref = ref / ref.sum(axis=1, keepdims=True) * np.tanh(a)
    error = rel_fro(softmax_tanh(a), ref)
    # The limit catches a wrong kernel (errors of 1e-3 and more), not the spread of fp32 exp/tanh
    # approximations: torch's CPU build usually lands at 9e-8 here, yet once gave 2.6e-5 in CI.
    report.check("correctness-ops", "PASS" if error <= OPS_TOLERANCE else "FAIL",
                 f"softmax*tanh rel_fro {error:.2e} (limit {OPS_TOLERANCE:.0e})", rel_fro=error)  # fmt: skip


def load_framework(report: Report, *names: str) -> list[Any] | None:
    """Import numpy and the framework; if that fails, report it as the environment FAIL and emit."""
    import importlib

    try:
        return [importlib.import_module(name) for name in names]
    except Exception as exc:  # any import failure is the finding: a broken or missing framework
        report.check("environment", "FAIL", f"cannot import {names[-1]}: {exc}")
        report.emit()
        return None


def correctness(report: Report, dtype: str, matmul: Callable[[Any, Any], Any]) -> None:
    """Check `matmul` (numpy float64 in, array-like out) on every shape against numpy float64."""
    worst, rows = 0.0, []
    for index, (m, k, n) in enumerate(SHAPES):
        a, b = random_inputs(m, k, n, seed=index)
        error = rel_fro(matmul(a, b), a @ b)
        worst = max(worst, error)
        rows.append({"shape": [m, k, n], "rel_fro": error})
    limit = TOLERANCE[dtype]
    status = "PASS" if worst <= limit else "FAIL"
    report.check(
        f"correctness-{dtype}",
        status,
        f"worst rel_fro {worst:.2e} (limit {limit:.0e})",
        shapes=rows,
        worst=worst,
        limit=limit,
    )


def half_sizes(sizes: list[int], accelerator: bool) -> list[int]:
    """fp16/bf16 GEMM sizes: all of them on accelerators; on CPUs, which often emulate bf16 at a
    fraction of fp32 speed, the smallest only (the fp32/half ratio is reported at that size)."""
    return sizes if accelerator else sizes[:1]


def half_speedup(report: Report, device: str, half_name: str) -> float | None:
    """fp16/bf16 over fp32 GEMM throughput at the largest size measured in both."""
    rows = {(r["dtype"], r["n"]): r["tflops"] for r in report.doc["throughput"] if r["device"] == device}
    both = [n for (dtype, n) in rows if dtype == half_name and ("float32", n) in rows]
    return rows[(half_name, max(both))] / rows[("float32", max(both))] if both else None


def gemm_sizes(args: argparse.Namespace, accelerator: bool) -> list[int]:
    if args.sizes:
        return args.sizes
    if accelerator:
        return [2048] if args.quick else [1024, 2048, 4096]
    return [512] if args.quick else [512, 1024, 2048]


def overfit_check(
    report: Report,
    losses: list[float],
    grads_finite: bool,
    changed: bool,
    on_device: bool,
    first_step_error: float | None,
) -> None:
    """Training-step verdict (overfit one batch, as in Karpathy's "A Recipe for Training Neural
    Networks"): loss falls >= 10x, grads finite, params change."""
    fell = losses[-1] < 0.1 * losses[0]
    parity = first_step_error is None or first_step_error <= 1e-4
    ok = fell and grads_finite and changed and on_device and parity
    reason = (
        f"loss {losses[0]:.3g} -> {losses[-1]:.3g} in {len(losses)} steps; grads finite: {grads_finite}; "
        f"params changed: {changed}; on device: {on_device}"
    )
    if first_step_error is not None:
        reason += f"; first step vs CPU rel error {first_step_error:.1e}"
    report.check(
        "training-step",
        "PASS" if ok else "FAIL",
        reason,
        first_loss=losses[0],
        last_loss=losses[-1],
        steps=len(losses),
        first_step_vs_cpu=first_step_error,
    )


class Adapter:
    """One framework on one device, in the shape the shared sequence (`run`) drives: pick the device,
    synchronise, matmul on the device, a GEMM to time, the training step, mixed precision and peak
    memory. Each script subclasses it; the order of checks and what they mean live only in `run`."""

    framework = ""
    modules: tuple[str, ...] = ()  # imported (and versions reported) before anything else
    half_name = "bfloat16"  # the reduced precision measured on this device
    extra_dtypes: tuple[str, ...] = ()  # e.g. tf32 on CUDA

    def __init__(self, modules: list[Any], args: argparse.Namespace) -> None:
        self.args = args
        self.device = "cpu"  # the short device name used in the document ("cpu", "cuda", "gpu", "mps", "metal")

    def environment(self) -> dict[str, Any]:
        raise NotImplementedError

    def select(self) -> tuple[str, str, str] | str:
        """(device, device_kind, device_name), or the reason the requested device is absent."""
        raise NotImplementedError

    def ready(self) -> tuple[str, str]:
        """The environment check once a device is chosen: (status, reason)."""
        return "PASS", f"{self.framework} on {self.device}"

    def architecture(self) -> tuple[str, str] | None:
        """On a GPU: (status, reason) of the device's architecture against what the framework was
        built for; None where there is nothing to compare (CPU, MPS)."""
        return None

    def sync(self, value: Any = None) -> None:
        raise NotImplementedError

    def placement(self) -> tuple[bool, str]:
        raise NotImplementedError

    def matmul(self, dtype: str) -> Callable[[Any, Any], Any]:
        """numpy in, numpy out: the product computed on the device in `dtype`."""
        raise NotImplementedError

    def softmax_tanh(self, a: Any) -> Any:
        raise NotImplementedError

    def gemm(self, device: str, dtype: str, n: int) -> Callable[[], Any]:
        """An n x n x n GEMM on `device` with its inputs already there: the op `time_op` times."""
        raise NotImplementedError

    def training(self, report: Report) -> None:
        raise NotImplementedError

    def mixed_precision(self, report: Report) -> None:
        raise NotImplementedError

    def checkpointing(self, report: Report) -> None:
        raise NotImplementedError

    def extra(self, report: Report) -> None:
        """Framework-specific checks after the shared ones (MLX: LLM generation)."""


def arch_verdict(capability: tuple[int, int], built: list[str]) -> tuple[str, str]:
    """Whether a framework built for `built` (torch.cuda.get_arch_list(): sm_80, sm_90, compute_90, ...)
    runs kernels on a device of `capability`: its own sm_XY, or PTX (compute_AB, AB <= XY) the driver
    compiles for it. A wheel built without the device's architecture fails at the first kernel, or
    reports cuda_available=False, after an install that looked fine."""
    sm = f"sm_{capability[0]}{capability[1]}"
    if sm in built:
        return "PASS", f"{sm} is among the architectures the framework was built for"
    number = capability[0] * 10 + capability[1]
    ptx = [a for a in built if a.startswith("compute_") and a[8:].isdigit() and int(a[8:]) <= number]
    if ptx:
        return "PASS", f"no {sm} kernels, but {max(ptx, key=lambda a: int(a[8:]))} PTX is compiled for it by the driver"
    listed = ", ".join(built) or "no CUDA architecture"
    return "FAIL", f"the framework was built for {listed}, not {sm}: install a build with {sm}"


def run(adapter_class: type[Adapter]) -> None:
    """The one acceptance sequence every script runs, whatever the framework and device."""
    args = arguments(sys.modules["__main__"].__doc__ or "")
    report = Report(adapter_class.framework, args.device)
    loaded = load_framework(report, *adapter_class.modules)
    if loaded is None:
        return
    adapter = adapter_class(loaded, args)
    report.doc["environment"] = adapter.environment()
    chosen = adapter.select()
    if isinstance(chosen, str):
        report.check("environment", "FAIL", chosen)
        report.emit()
        return
    adapter.device, kind, name = chosen
    report.doc.update(device=adapter.device, device_kind=kind, device_name=name)
    report.check("environment", *adapter.ready())

    def architecture() -> None:
        found = adapter.architecture()
        if found is not None:
            report.check("architecture", *found)

    report.guarded("architecture", architecture)

    def placement() -> None:
        ok, where = adapter.placement()
        report.check("placement", "PASS" if ok else "FAIL", where)

    report.guarded("placement", placement)

    def correct(dtype: str) -> Callable[[], None]:
        return lambda: correctness(report, dtype, adapter.matmul(dtype))

    for dtype in ("float32", adapter.half_name):
        report.guarded(f"correctness-{dtype}", correct(dtype))
    report.guarded("correctness-ops", lambda: ops_check(report, adapter.softmax_tanh))
    report.guarded("throughput", lambda: throughput(report, adapter, args))
    report.guarded("training-step", lambda: adapter.training(report))
    report.guarded("mixed-precision", lambda: adapter.mixed_precision(report))
    report.guarded("activation-checkpointing", lambda: adapter.checkpointing(report))
    adapter.extra(report)
    report.emit()


def blas_calibration(quick: bool) -> dict[str, Any] | None:
    """numpy's sgemm in this same process (the platform BLAS on every core it may use), best sample
    of about half a second at n=1024: what an optimised BLAS reaches on this CPU right now. The
    framework's fp32 GEMM is judged against it (is the framework on an optimised BLAS, on all
    cores?); it is a reference from outside the framework, not a peak. None without numpy."""
    try:
        import numpy as np
    except ImportError:
        return None
    n = 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a  # warm-up: threads start, pages fault in
    best, deadline = 0.0, time.perf_counter() + (0.25 if quick else 0.5)
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        a @ a
        best = max(best, 2.0 * n**3 / (time.perf_counter() - start) / 1e12)
    library = "unknown BLAS"
    try:
        config = np.show_config(mode="dicts")  # numpy >= 1.25
        blas = config.get("Build Dependencies", {}).get("blas", {})
        library = f"{blas.get('name', 'BLAS')} {blas.get('version', '')}".strip()
    except (TypeError, AttributeError):
        pass
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"tflops": best, "n": n, "library": f"numpy {np.__version__} with {library}", "cores": threads}


def throughput(report: Report, adapter: Adapter, args: argparse.Namespace) -> None:
    accelerator = adapter.device != "cpu"
    if not accelerator:
        report.doc["calibration"] = blas_calibration(args.quick)
    sizes = gemm_sizes(args, accelerator)
    for n in sizes:
        half = [adapter.half_name] if n in half_sizes(sizes, accelerator) else []
        for dtype in ["float32", *half, *adapter.extra_dtypes]:
            measure(report, adapter, adapter.device, dtype, n, args.quick)
    if accelerator:  # the same GEMM on this machine's CPU, all threads, for the device-vs-CPU ratio
        measure(report, adapter, "cpu", "float32", gemm_sizes(args, False)[-1], args.quick)
    count = len(report.doc["throughput"])
    report.check("throughput", "PASS", f"{count} GEMM measurements (verdict applies thresholds)")


def measure(report: Report, adapter: Adapter, device: str, dtype: str, n: int, quick: bool) -> None:
    op = adapter.gemm(device, dtype, n)
    result = time_op(op, adapter.sync, 2.0 * n**3, quick)
    report.doc["throughput"].append({"device": device, "dtype": dtype, "n": n, **result})
