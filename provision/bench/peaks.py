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
    """fp32 (= fp16 on M1-M4) peak of an Apple GPU; without a core count, the smallest variant."""
    entry = next((c for c in chips()["apple"] if chip and c["chip"].lower() == chip.strip().lower()), None)
    if entry is None:
        return None
    variants = [v for v in entry["variants"] if v.get("fp32_tflops")]
    if gpu_cores:
        variants = [v for v in variants if v["gpu_cores"] == gpu_cores] or variants
    if not variants:
        return None
    variant = min(variants, key=lambda v: v["fp32_tflops"])
    value = float(variant["fp32_tflops"])
    same = entry["family"] in chips().get("apple_fp16_equals_fp32", [])
    table = {"float32": value, **({"float16": value, "bfloat16": value} if same else {})}
    return Peak(table, f"chips.yaml: {entry['chip']} {variant['gpu_cores']}-core GPU")


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


def _flops_per_cycle(flags: set[str], machine: str) -> tuple[int, str]:
    if "avx512f" in flags:
        return 64, "AVX-512, 2 FMA units assumed"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2 + FMA (2x256-bit)"
    if machine in ("aarch64", "arm64"):
        return 16, "NEON (2x128-bit FMA assumed)"
    return 16, "SSE (no FMA)"


def cpu_peak(cpuinfo: str, max_khz: str | None, cores: int) -> Peak:
    """cores x clock x FP32 FLOPs/cycle (the vendors' FMA widths per core and cycle): an estimate,
    and labelled as one."""
    flags_line = re.search(r"^(flags|Features)\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    flags = set(flags_line.group(2).split()) if flags_line else set()
    per_cycle, simd = _flops_per_cycle(flags, os.uname().machine)
    if max_khz and max_khz.strip().isdigit():
        ghz = int(max_khz) / 1e6
    else:
        mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.MULTILINE)
        ghz = float(mhz.group(1)) / 1000 if mhz else 2.0
    value = cores * ghz * per_cycle / 1000
    source = f"estimate: {cores} cores x {ghz:.2f} GHz x {per_cycle} FLOP/cycle ({simd})"
    return Peak({"float32": value, "bfloat16": value}, source, estimate=True)


def this_cpu_peak() -> Peak:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpu_peak(cpuinfo, freq.read_text() if freq.exists() else None, cores)
