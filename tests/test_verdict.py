"""The verdict logic over recorded benchmark documents: good, slow, wrong result, CPU fallback."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from provision.bench.peaks import Peak, apple_peak, cpu_peak, nvidia_peak
from provision.bench.values import Status
from provision.bench.verdict import judge
from provision.profile.model import Thresholds

DATA = Path(__file__).parent / "data" / "bench"


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def as_apple_gpu(doc: dict, gpu_tflops: float, cpu_tflops: float) -> dict:
    """A recorded CPU document re-labelled as an M1 Pro MPS run with the given GEMM rates."""
    out = copy.deepcopy(doc)
    out.update(device="mps", device_kind="apple-gpu", device_name="mps", device_requested="mps")
    rows = [{**row, "device": "mps", "tflops": gpu_tflops} for row in doc["throughput"]]
    rows.append({**doc["throughput"][0], "device": "cpu", "dtype": "float32", "tflops": cpu_tflops})
    out["throughput"] = rows
    return out


M1_PRO = apple_peak("Apple M1 Pro")


def test_real_cpu_documents_pass_without_a_speed_gate() -> None:
    for name in ("jax-cpu.json", "torch-cpu.json"):
        result = judge(recorded(name), Thresholds(), cpu_peak("flags : avx2 fma\ncpu MHz : 2000.0\n", None, 2))
        assert result.status is Status.PASS, result.gates
        gate = {g.name: g for g in result.gates}["fraction-of-peak"]
        assert gate.status is Status.SKIP and "estimate" in gate.reason


def test_good_apple_gpu_run_passes() -> None:
    assert M1_PRO is not None and M1_PRO.tflops["float32"] == pytest.approx(4.64)  # smallest M1 Pro variant
    result = judge(as_apple_gpu(recorded("torch-cpu.json"), 3.9, 0.9), Thresholds(), M1_PRO)
    assert result.status is Status.PASS, result.gates
    assert result.versus_cpu == pytest.approx(3.9 / 0.9)


def test_slow_apple_gpu_run_fails_on_fraction_of_peak() -> None:
    result = judge(as_apple_gpu(recorded("torch-cpu.json"), 1.0, 0.9), Thresholds(), M1_PRO)
    assert result.status is Status.FAIL
    gate = {g.name: g for g in result.gates}["fraction-of-peak"]
    assert gate.status is Status.FAIL and "22%" in gate.reason and "need >= 50%" in gate.reason


def test_profile_threshold_overrides_the_default() -> None:
    doc = as_apple_gpu(recorded("torch-cpu.json"), 1.0, 0.9)
    assert judge(doc, Thresholds(min_fraction_of_peak=0.2, min_speedup_vs_cpu=1.1), M1_PRO).status is Status.PASS


def test_gpu_slower_than_cpu_fails() -> None:
    result = judge(as_apple_gpu(recorded("torch-cpu.json"), 3.0, 3.5), Thresholds(), M1_PRO)
    assert {g.name: g.status for g in result.gates}["versus-cpu"] is Status.FAIL


def test_wrong_result_fails_whatever_the_speed() -> None:
    doc = as_apple_gpu(recorded("torch-cpu.json"), 4.5, 0.9)
    check = next(c for c in doc["checks"] if c["name"] == "correctness-float32")
    check.update(status="FAIL", reason="worst rel_fro 1.00e+00 (limit 1e-05)")
    result = judge(doc, Thresholds(), M1_PRO)
    assert result.status is Status.FAIL
    assert "correctness-float32" in result.gates[0].reason


def test_silent_fallback_to_cpu_fails() -> None:
    doc = as_apple_gpu(recorded("jax-cpu.json"), 4.0, 0.9)
    placement = next(c for c in doc["checks"] if c["name"] == "placement")
    placement.update(status="FAIL", reason="jitted matmul result lives on ['cpu'] (requested metal)")
    result = judge(doc, Thresholds(), apple_peak("Apple M2"))
    assert result.status is Status.FAIL
    # It fails for the fallback itself (the placement check), not because some speed gate missed.
    gates = {g.name: g for g in result.gates}
    assert gates["checks"].status is Status.FAIL and gates["checks"].reason == "failed: placement"
    unplaced = copy.deepcopy(doc)
    next(c for c in unplaced["checks"] if c["name"] == "placement").update(status="PASS", reason="")
    only_fault = judge(unplaced, Thresholds(), apple_peak("Apple M2"))
    assert only_fault.status is Status.PASS, "the fallback was the only fault"


def test_unknown_peak_is_skipped_not_guessed() -> None:
    result = judge(as_apple_gpu(recorded("torch-cpu.json"), 3.9, 0.9), Thresholds(), None)
    gate = {g.name: g for g in result.gates}["fraction-of-peak"]
    assert gate.status is Status.SKIP and "unknown" in gate.reason


def test_nvidia_and_cpu_peaks() -> None:
    h100 = nvidia_peak("NVIDIA H100 80GB HBM3")
    assert h100 is not None and h100.tflops["bfloat16"] == pytest.approx(989.4)
    h200 = nvidia_peak("NVIDIA H200")
    assert h200 is not None and h200.tflops == {"float32": 67.0, "tf32": 494.7, "bfloat16": 989.4, "float16": 989.4}
    assert nvidia_peak("Some Unknown GPU") is None
    assert apple_peak("Apple M9") is None
    peak = cpu_peak("vendor_id : GenuineIntel\nmodel name : Intel(R) Xeon(R)\nflags : fpu avx512f avx2 fma\n"
                    "cpu MHz : 2500.0\n", None, 4)  # fmt: skip
    assert isinstance(peak, Peak) and peak.estimate
    assert peak.tflops == {"float32": pytest.approx(4 * 2.5 * 64 / 1000)}, "no guessed half-precision figure"
    assert cpu_peak("flags : avx2 fma\n", "3000000", 2).tflops["float32"] == pytest.approx(2 * 3.0 * 32 / 1000)


def test_min_tflops_threshold() -> None:
    doc = recorded("jax-cpu.json")
    result = judge(doc, Thresholds(min_tflops=100.0), None)
    assert result.status is Status.FAIL
    assert {g.name: g.status for g in result.gates}["min-tflops"] is Status.FAIL


def test_the_verdict_says_in_words_what_was_proven() -> None:
    from provision.bench.report import proof

    good = judge(as_apple_gpu(recorded("jax-cpu.json"), 11.9, 0.9), Thresholds(), apple_peak("Apple M3 Max", 40))
    line = proof(dataclasses.replace(good, device_name="Apple M3 Max"))
    assert line.startswith("jax: matmul ran on the Apple M3 Max GPU, matched float64 to 3e-07, reached 11.9 of")
    assert good.peak is not None and line.endswith(f"TFLOPS ({11.9 / good.peak.tflops['float32']:.0%})")
    doc = recorded("jax-cpu.json")
    next(c for c in doc["checks"] if c["name"] == "placement").update(status="FAIL", reason="ran on cpu")
    assert proof(judge(doc, Thresholds(), None)) == "jax FAILED on cpu: placement: ran on cpu"


def test_team_chart_uses_a_log_axis_when_machines_differ_by_more_than_10x() -> None:
    from provision.bench.team import needs_log_scale

    assert needs_log_scale([0.2, 45.0]) and not needs_log_scale([3.0, 11.9]) and not needs_log_scale([])
