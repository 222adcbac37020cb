"""Peak throughput of the device a benchmark ran on: chips table for GPUs, an estimate for CPUs."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Peak:
    tflops: dict[str, float]  # dtype -> dense TFLOPS
    source: str  # where the figure comes from, shown beside every fraction
    estimate: bool = False


@cache
def chips() -> dict[str, Any]:
    text = resources.files("provision").joinpath("data/chips.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def apple_peak(chip: str | None, gpu_cores: int | None = None) -> Peak | None:
    """fp32 (= fp16 on M1-M4) peak of an Apple GPU, for the variant with `gpu_cores` (read from
    `ioreg -rc AGXAccelerator`). Without a matching core count the smallest variant is assumed, and
    the source says so: a fraction of a too-low peak would flatter the machine."""
    entry = next((c for c in chips()["apple"] if chip and c["chip"].lower() == chip.strip().lower()), None)
    if entry is None:
        return None
    variants = [v for v in entry["variants"] if v.get("fp32_tflops")]
    if not variants:
        return None
    matching = [v for v in variants if gpu_cores and v["gpu_cores"] == gpu_cores]
    variant = matching[0] if matching else min(variants, key=lambda v: v["fp32_tflops"])
    value = float(variant["fp32_tflops"])
    same = entry["family"] in chips().get("apple_fp16_equals_fp32", [])
    table = {"float32": value, **({"float16": value, "bfloat16": value} if same else {})}
    source = f"chips.yaml: {entry['chip']} {variant['gpu_cores']}-core GPU"
    if not matching:
        read = f"{gpu_cores} GPU cores is no known variant" if gpu_cores else "the GPU core count could not be read"
        source += f" (assumed: {read}; the smallest variant is used)"
    return Peak(table, source)


def nvidia_peak(device_name: str | None) -> Peak | None:
    if not device_name:
        return None
    for entry in chips()["nvidia"]:
        if any(p.lower() in device_name.lower() for p in entry.get("name_patterns", [])):
            table = {
                dtype: float(entry[key])
                for dtype, key in (("float32", "fp32_tflops"), ("tf32", "tf32_tflops"),
                                   ("bfloat16", "bf16_tflops"), ("float16", "fp16_tflops"))
                if entry.get(key)
            }  # fmt: skip
            return Peak(table, f"chips.yaml: {entry['name']}")
    return None


def _field(cpuinfo: str, name: str) -> str:
    match = re.search(rf"^{name}\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else ""


# fp32 FLOP per cycle and core from the FMA units each core has (2 FLOPs per lane per FMA):
# AMD's and Intel's optimisation manuals, Arm's Neoverse software optimisation guides.
ARM_CORES = {
    ("0x41", "0xd0c"): (16, "Neoverse N1 (Graviton2): 2x128-bit FMA"),
    ("0x41", "0xd49"): (16, "Neoverse N2: 2x128-bit FMA"),
    ("0x41", "0xd40"): (32, "Neoverse V1 (Graviton3): 2x256-bit SVE FMA"),
    ("0x41", "0xd4f"): (32, "Neoverse V2 (Graviton4, Grace): 4x128-bit FMA"),
    ("0x41", "0xd84"): (32, "Neoverse V3: 4x128-bit FMA"),
}


def flops_per_cycle(cpuinfo: str) -> tuple[int, str]:
    """fp32 FLOP/cycle/core of the CPU that `cpuinfo` (/proc/cpuinfo text) describes, and why."""
    flags = set((_field(cpuinfo, "flags") or _field(cpuinfo, "Features")).split())
    vendor, model = _field(cpuinfo, "vendor_id"), _field(cpuinfo, "model name")
    family = int(_field(cpuinfo, "cpu family") or 0) if _field(cpuinfo, "cpu family").isdigit() else 0
    implementer, part = _field(cpuinfo, "CPU implementer").lower(), _field(cpuinfo, "CPU part").lower()
    if implementer == "0x61":
        return 32, "Apple M-series: 4x128-bit FMA per performance core"
    if (implementer, part) in ARM_CORES:
        return ARM_CORES[(implementer, part)]
    if implementer:
        return 16, "Arm core not in the table: 2x128-bit FMA assumed"
    if "avx512f" in flags and vendor == "AuthenticAMD":
        if family >= 26:
            return 64, "Zen 5: 2x512-bit FMA"
        return 32, "Zen 4: AVX-512 executed on 2x256-bit FMA"
    if "avx512f" in flags and "xeon" in model.lower():
        return 64, "Intel server core: 2x512-bit FMA"
    if "avx512f" in flags:
        return 32, "Intel client core with AVX-512: 1x512-bit FMA"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2: 2x256-bit FMA"
    return 8, "SSE: 4-wide multiply and add, no FMA"


def cpu_peak(cpuinfo: str, max_khz: str | None, cores: int) -> Peak:
    """The static fp32 estimate: cores x clock x FLOP/cycle, labelled as an estimate. Shown when no
    calibration ran; half precisions get no figure (their CPU rates vary too much to guess)."""
    per_cycle, why = flops_per_cycle(cpuinfo)
    if max_khz and max_khz.strip().isdigit():
        ghz, clock = int(max_khz) / 1e6, "highest clock (cpufreq)"
    else:
        mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.MULTILINE)
        ghz = float(mhz.group(1)) / 1000 if mhz else 2.0
        # A VM or container often has no cpufreq: the reported clock is the nominal one, and boost
        # can run above it, so a measured rate may exceed this ceiling. Said where the figure is shown.
        clock = "reported clock (no cpufreq maximum here; boost may exceed it)" if mhz else "2 GHz assumed"
    value = cores * ghz * per_cycle / 1000
    source = f"estimate: {cores} cores x {ghz:.2f} GHz {clock} x {per_cycle} FLOP/cycle ({why})"
    return Peak({"float32": value}, source, estimate=True)


def this_cpu_peak() -> Peak:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    return cpu_peak(cpuinfo, freq.read_text() if freq.exists() else None, _cores())


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cpu_reference(doc: dict[str, Any], static: Peak) -> str:
    """What the CPU's fp32 GEMM is measured against, both from outside the run: the BLAS calibration
    the benchmark ran in its own process, and the static ceiling. Each figure names its source."""
    fp32 = [r for r in doc.get("throughput", []) if r["device"] == "cpu" and r["dtype"] == "float32"]
    if not fp32:
        return ""
    best = max(fp32, key=lambda r: r["n"])["tflops"]
    ceiling = static.tflops["float32"]
    parts = [f"fp32 {best:.4f} TFLOPS at n={max(r['n'] for r in fp32)}"]
    calibration = doc.get("calibration")
    if isinstance(calibration, dict) and isinstance(calibration.get("tflops"), (int, float)) and calibration["tflops"]:
        parts.append(f"{best / calibration['tflops']:.0%} of this process's BLAS calibration "
                     f"({calibration['tflops']:.4f} TFLOPS: {calibration.get('library')}, "
                     f"{calibration.get('cores')} cores, sgemm n={calibration.get('n')})")  # fmt: skip
    parts.append(f"{best / ceiling:.0%} of the static ceiling ({ceiling:.3f} TFLOPS = {static.source})")
    return "; ".join(parts)
