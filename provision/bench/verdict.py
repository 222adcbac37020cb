"""From a benchmark's JSON document to a verdict. Pure: document, thresholds and peak in.

Defaults per device kind are provisional thresholds derived from published measurements
(NVIDIA's H100/H200 datasheets for the dense peaks, Apple-silicon GEMM runs in mlx and PyTorch
issues); a profile's `acceptance.thresholds` override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Thresholds
from .peaks import Peak

# (min fraction of peak for fp32, min device/CPU ratio) per device kind; None: no gate
DEFAULTS: dict[str, tuple[float | None, float | None]] = {
    "cpu": (None, None),  # no speed gate on CPUs: correctness and placement only
    "apple-gpu": (0.5, 1.0),  # fp32 >= 50 % of peak and faster than this Mac's CPU
    "nvidia-gpu": (0.5, 2.0),  # PCIe floor (SXM parts reach 60 %); fp32 vs CPU >= 2x
}
JAX_METAL_FRACTION = 0.4  # jax-metal: >= 40 % of peak, provisional (§14)


@dataclass(frozen=True)
class Gate:
    name: str
    status: str  # PASS / FAIL / SKIP
    reason: str


def best(doc: dict[str, Any], device: str, dtype: str) -> dict[str, Any] | None:
    rows = [r for r in doc.get("throughput", []) if r["device"] == device and r["dtype"] == dtype]
    return max(rows, key=lambda r: r["n"]) if rows else None


def judge(doc: dict[str, Any], thresholds: Thresholds, peak: Peak | None) -> dict[str, Any]:
    kind = doc.get("device_kind") or "cpu"
    fraction_default, ratio_default = DEFAULTS.get(kind, (None, None))
    if doc.get("framework") == "jax" and kind == "apple-gpu":
        fraction_default = JAX_METAL_FRACTION
    min_fraction = thresholds.min_fraction_of_peak if thresholds.min_fraction_of_peak is not None else fraction_default
    min_ratio = thresholds.min_speedup_vs_cpu if thresholds.min_speedup_vs_cpu is not None else ratio_default
    device = doc.get("device") or "cpu"
    fp32 = best(doc, device, "float32")
    gates: list[Gate] = []
    failed = [c["name"] for c in doc.get("checks", []) if c["status"] == "FAIL"]
    gates.append(
        Gate("checks", "FAIL" if failed else "PASS", f"failed: {', '.join(failed)}" if failed else "no check failed")
    )
    fractions = {}
    if peak and fp32:
        for row in doc.get("throughput", []):
            if row["device"] == device and row["dtype"] in peak.tflops:
                fractions[f"{row['dtype']}@{row['n']}"] = row["tflops"] / peak.tflops[row["dtype"]]
    if fp32 is None:
        gates.append(Gate("fraction-of-peak", "FAIL", "no fp32 throughput was measured"))
    elif min_fraction is None:
        gates.append(Gate("fraction-of-peak", "SKIP", f"no speed gate on {kind}" + _of_peak(fp32, peak)))
    elif peak is None or "float32" not in peak.tflops:
        gates.append(Gate("fraction-of-peak", "SKIP", "peak of this device unknown (not in chips.yaml)"))
    else:
        value = fp32["tflops"] / peak.tflops["float32"]
        status = "PASS" if value >= min_fraction else "FAIL"
        gates.append(
            Gate(
                "fraction-of-peak",
                status,
                f"fp32 {fp32['tflops']:.2f} TFLOPS = {value:.0%} of "
                f"{peak.tflops['float32']:.2f} ({peak.source}); need >= {min_fraction:.0%}",
            )
        )
    cpu = best(doc, "cpu", "float32") if device != "cpu" else None
    ratio = fp32["tflops"] / cpu["tflops"] if fp32 and cpu and cpu["tflops"] else None
    if device == "cpu":
        gates.append(Gate("versus-cpu", "SKIP", "the device is the CPU"))
    elif ratio is None:
        gates.append(Gate("versus-cpu", "FAIL" if min_ratio else "SKIP", "no CPU measurement to compare with"))
    elif min_ratio is None:
        gates.append(Gate("versus-cpu", "SKIP", f"{ratio:.1f}x the CPU (informational)"))
    else:
        gates.append(
            Gate(
                "versus-cpu",
                "PASS" if ratio >= min_ratio else "FAIL",
                f"fp32 GEMM {ratio:.1f}x this machine's CPU; need >= {min_ratio:g}x",
            )
        )
    if thresholds.min_tflops is not None:
        got = fp32["tflops"] if fp32 else 0.0
        gates.append(
            Gate(
                "min-tflops",
                "PASS" if got >= thresholds.min_tflops else "FAIL",
                f"fp32 {got:.3f} TFLOPS; need >= {thresholds.min_tflops:g}",
            )
        )
    verdict = "FAIL" if any(g.status == "FAIL" for g in gates) else "PASS"
    return {
        "verdict": verdict,
        "framework": doc.get("framework"),
        "device": device,
        "device_kind": kind,
        "device_name": doc.get("device_name"),
        "peak": {"tflops": peak.tflops, "source": peak.source, "estimate": peak.estimate} if peak else None,
        "fraction_of_peak": fractions,
        "versus_cpu": ratio,
        "gates": [g.__dict__ for g in gates],
        "document": doc,
    }


def _of_peak(row: dict[str, Any], peak: Peak | None) -> str:
    if not peak or "float32" not in peak.tflops:
        return ""
    return f"; fp32 {row['tflops']:.3f} TFLOPS = {row['tflops'] / peak.tflops['float32']:.0%} of {peak.source}"
