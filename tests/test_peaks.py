"""Peaks that cannot flatter: the static CPU estimate over real CPUs' cpuinfo, the measured CPU
peak (no fraction above 100 %), and Apple GPU variants chosen by the core count ioreg reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.bench.peaks import apple_peak, cpu_peak, cpu_reference, flops_per_cycle, this_cpu_peak
from provision.bench.verdict import judge
from provision.machine.facts import parse_gpu_cores
from provision.profile.model import Thresholds

FIXTURES = Path(__file__).parent / "data" / "fixtures"


@pytest.mark.parametrize(
    ("file", "per_cycle", "why"),
    [
        ("amd-epyc-9r14-zen4.txt", 32, "Zen 4"),
        ("amd-ryzen-9-9950x-zen5.txt", 64, "Zen 5"),
        ("intel-core-ultra-9-285-arrowlake.txt", 32, "AVX2"),
        ("intel-xeon-6972p-graniterapids.txt", 64, "Intel server"),
        ("this-build-machine-xeon.txt", 64, "Intel server"),
        ("aws-graviton2-neoverse-n1.txt", 16, "Neoverse N1"),
        ("apple-m-series-linux-vm.txt", 32, "Apple M-series"),
    ],
)
def test_static_estimate_knows_each_cores_fma_width(file: str, per_cycle: int, why: str) -> None:
    cpuinfo = (FIXTURES / "cpuinfo" / file).read_text()
    assert flops_per_cycle(cpuinfo)[0] == per_cycle
    assert why in flops_per_cycle(cpuinfo)[1]
    peak = cpu_peak(cpuinfo, "3000000", 8)
    assert peak.estimate and peak.tflops == {"float32": pytest.approx(8 * 3.0 * per_cycle / 1000)}
    assert "estimate" in peak.source and why in peak.source


def test_a_cpu_run_is_measured_against_references_from_outside_it() -> None:
    """The calibration the benchmark ran in its own process and the static ceiling: a GEMM that beats
    the calibration reads over 100 % of it, and nothing the run measured becomes a 'peak'."""
    doc = json.loads((Path(__file__).parent / "data" / "bench" / "jax-cpu.json").read_text())
    best = max((r for r in doc["throughput"] if r["dtype"] == "float32"), key=lambda r: r["n"])["tflops"]
    doc["calibration"] = {"tflops": best / 2, "n": 1024, "library": "numpy 2.3 with openblas 0.3.29", "cores": 2}
    static = this_cpu_peak()
    line = cpu_reference(doc, static)
    assert "200% of this process's BLAS calibration" in line and "openblas 0.3.29, 2 cores" in line
    assert f"of the static ceiling ({static.tflops['float32']:.3f} TFLOPS = estimate:" in line
    result = judge(doc, Thresholds(), static)
    gate = next(g for g in result.gates if g.name == "fraction-of-peak")
    assert gate.reason.startswith("no speed gate on cpu: fp32") and "peak" not in gate.reason
    assert not any(f.dtype == "bfloat16" for f in result.fractions), "no half-precision yardstick"


def test_apple_gpu_variant_comes_from_ioreg() -> None:
    m4 = parse_gpu_cores((FIXTURES / "mac" / "outputs" / "ioreg-agx-m4.txt").read_text())
    m3_pro = parse_gpu_cores((FIXTURES / "mac" / "outputs" / "ioreg-agx-m3-pro.txt").read_text())
    assert (m4, m3_pro) == (10, 14)
    read = apple_peak("Apple M4", m4)
    assert read is not None and read.tflops["float32"] == pytest.approx(3.76) and "assumed" not in read.source
    unread = apple_peak("Apple M4", None)
    assert unread is not None and unread.tflops["float32"] == pytest.approx(3.01)
    assert "assumed: the GPU core count could not be read" in unread.source
    odd = apple_peak("Apple M4", 12)
    assert odd is not None and "12 GPU cores is no known variant" in odd.source
