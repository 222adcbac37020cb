"""From a benchmark's JSON document to a verdict. Pure: document, thresholds and peak in.

Defaults per device kind are provisional thresholds derived from published measurements
(NVIDIA's H100/H200 datasheets for the dense peaks, Apple-silicon GEMM runs in mlx and PyTorch
issues); a profile's `acceptance.thresholds` override them.
"""

from __future__ import annotations

from typing import Any

from ..profile.model import Thresholds
from .peaks import Peak
from .values import Check, Fraction, Gate, Measurement, Status, Verdict

# (min fraction of peak for fp32, min device/CPU ratio) per device kind; None: no gate
DEFAULTS: dict[str, tuple[float | None, float | None]] = {
    "cpu": (None, None),  # no speed gate on CPUs: correctness and placement only
    "apple-gpu": (0.5, 1.0),  # fp32 >= 50 % of peak and faster than this Mac's CPU
    "nvidia-gpu": (0.5, 2.0),  # PCIe floor (SXM parts reach 60 %); fp32 vs CPU >= 2x
}
JAX_METAL_FRACTION = 0.4  # jax-metal: >= 40 % of peak, provisional (§14)


def judge(doc: dict[str, Any], thresholds: Thresholds, peak: Peak | None) -> Verdict:
    """The verdict on one script's document: its checks, then the speed gates for its device kind."""
    checks = tuple(Check.from_json(c) for c in doc.get("checks", []))
    measurements = tuple(Measurement.from_json(m) for m in doc.get("throughput", []))
    kind = doc.get("device_kind") or "cpu"
    fraction_default, ratio_default = DEFAULTS.get(kind, (None, None))
    if doc.get("framework") == "jax" and kind == "apple-gpu":
        fraction_default = JAX_METAL_FRACTION
    min_fraction = thresholds.min_fraction_of_peak if thresholds.min_fraction_of_peak is not None else fraction_default
    min_ratio = thresholds.min_speedup_vs_cpu if thresholds.min_speedup_vs_cpu is not None else ratio_default
    device = doc.get("device") or "cpu"
    fp32 = _best(measurements, device, "float32")
    failed = [c.name for c in checks if c.status is Status.FAIL]
    gates = [Gate("checks", Status.FAIL if failed else Status.PASS,
                  f"failed: {', '.join(failed)}" if failed else "no check failed")]  # fmt: skip
    fractions = tuple(
        Fraction(m.dtype, m.n, m.tflops / peak.tflops[m.dtype])
        for m in measurements
        if peak and fp32 and m.device == device and m.dtype in peak.tflops
    )
    gates.append(_fraction_gate(fp32, peak, min_fraction, kind, doc))
    cpu = _best(measurements, "cpu", "float32") if device != "cpu" else None
    ratio = fp32.tflops / cpu.tflops if fp32 and cpu and cpu.tflops else None
    gates.append(_versus_cpu_gate(device, ratio, min_ratio))
    if thresholds.min_tflops is not None:
        got = fp32.tflops if fp32 else 0.0
        gates.append(Gate("min-tflops", Status.PASS if got >= thresholds.min_tflops else Status.FAIL,
                          f"fp32 {got:.3f} TFLOPS; need >= {thresholds.min_tflops:g}"))  # fmt: skip
    return Verdict(
        status=Status.FAIL if any(g.status is Status.FAIL for g in gates) else Status.PASS,
        framework=str(doc.get("framework")), device=device, device_kind=kind, device_name=doc.get("device_name"),
        peak=peak, gates=tuple(gates), checks=checks, measurements=measurements, fractions=fractions,
        versus_cpu=ratio, document=doc,
    )  # fmt: skip


def _best(measurements: tuple[Measurement, ...], device: str, dtype: str) -> Measurement | None:
    rows = [m for m in measurements if m.device == device and m.dtype == dtype]
    return max(rows, key=lambda m: m.n) if rows else None


def _fraction_gate(
    fp32: Measurement | None, peak: Peak | None, min_fraction: float | None, kind: str, document: dict[str, Any]
) -> Gate:
    if fp32 is None:
        return Gate("fraction-of-peak", Status.FAIL, "no fp32 throughput was measured")
    if min_fraction is None:
        if kind == "cpu" and fp32.device == "cpu" and peak is not None:
            from .peaks import cpu_reference

            return Gate("fraction-of-peak", Status.SKIP, f"no speed gate on cpu: {cpu_reference(document, peak)}")
        return Gate("fraction-of-peak", Status.SKIP, f"no speed gate on {kind}" + _of_peak(fp32, peak))
    if peak is None or "float32" not in peak.tflops:
        return Gate("fraction-of-peak", Status.SKIP, "peak of this device unknown (not in chips.yaml)")
    value = fp32.tflops / peak.tflops["float32"]
    return Gate("fraction-of-peak", Status.PASS if value >= min_fraction else Status.FAIL,
                f"fp32 {fp32.tflops:.2f} TFLOPS = {value:.0%} of {peak.tflops['float32']:.2f} ({peak.source}); "
                f"need >= {min_fraction:.0%}")  # fmt: skip


def _versus_cpu_gate(device: str, ratio: float | None, min_ratio: float | None) -> Gate:
    if device == "cpu":
        return Gate("versus-cpu", Status.SKIP, "the device is the CPU")
    if ratio is None:
        return Gate("versus-cpu", Status.FAIL if min_ratio else Status.SKIP, "no CPU measurement to compare with")
    if min_ratio is None:
        return Gate("versus-cpu", Status.SKIP, f"{ratio:.1f}x the CPU (informational)")
    return Gate("versus-cpu", Status.PASS if ratio >= min_ratio else Status.FAIL,
                f"fp32 GEMM {ratio:.1f}x this machine's CPU; need >= {min_ratio:g}x")  # fmt: skip


def _of_peak(row: Measurement, peak: Peak | None) -> str:
    if not peak or "float32" not in peak.tflops:
        return ""
    return f"; fp32 {row.tflops:.3f} TFLOPS = {row.tflops / peak.tflops['float32']:.0%} of {peak.source}"
