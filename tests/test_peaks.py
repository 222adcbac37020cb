"""Peaks that cannot flatter: the static CPU estimate over real CPUs' cpuinfo, the measured CPU
peak (no fraction above 100 %), and Apple GPU variants chosen by the core count ioreg reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.bench.peaks import apple_peak, calibrated_fp32, cpu_peak, flops_per_cycle, measured_cpu_peak
from provision.bench.verdict import judge
from provision.host import parse_gpu_cores
from provision.model import Thresholds

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


def test_the_measured_peak_is_never_below_a_measured_rate() -> None:
    calibration = calibrated_fp32()
    assert calibration is not None and calibration > 0.001
    doc = json.loads((Path(__file__).parent / "data" / "bench" / "jax-cpu.json").read_text())
    # A document whose GEMM beat the calibration: the peak rises to it, the fraction stays <= 100 %.
    doc["throughput"].append({"device": "cpu", "dtype": "float32", "n": 4096, "tflops": calibration * 3,
                              "tflops_min": calibration * 2.9, "tflops_max": calibration * 3.1})  # fmt: skip
    peak = measured_cpu_peak(doc)
    assert not peak.estimate and "measured here" in peak.source and "static estimate" in peak.source
    assert peak.tflops["float32"] == pytest.approx(calibration * 3.1)
    result = judge(doc, Thresholds(), peak)
    assert result.fractions and max(f.value for f in result.fractions) <= 1.0
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
