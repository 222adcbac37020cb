"""Read-only facts about this machine.

Collecting runs a few commands and keeps their raw text; parsing is a pure function of
that text, so outputs saved on a real Mac (or a GPU box) can be replayed in tests.
"""

from __future__ import annotations

import json
import platform as pyplatform
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .runner import run

SYSCTL_KEYS = [
    "hw.memsize", "hw.optional.arm64", "sysctl.proc_translated", "kern.osproductversion",
    "machdep.cpu.brand_string", "hw.perflevel0.logicalcpu", "hw.perflevel1.logicalcpu", "iogpu.wired_limit_mb",
]  # fmt: skip
NVIDIA_QUERY = ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"]


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int
    driver: str


@dataclass(frozen=True)
class HostFacts:
    system: str  # "Darwin" or "Linux"
    machine: str  # the interpreter's view: "arm64", "x86_64", "aarch64"
    subdir: str | None  # the conda platform this Python runs as
    apple_silicon: bool = False  # the hardware, even when this process runs under Rosetta
    translated: bool = False  # this process runs under Rosetta 2
    macos: str | None = None
    chip: str | None = None
    memory_bytes: int | None = None
    glibc: str | None = None
    cuda_driver: str | None = None  # the highest CUDA version the NVIDIA driver supports
    gpus: list[Gpu] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_raw() -> dict[str, str]:
    """The raw outputs parse_facts() reads: command output text, keyed by source."""
    raw = {
        "python": json.dumps(
            {"system": pyplatform.system(), "machine": pyplatform.machine(), "libc": list(pyplatform.libc_ver())}
        )
    }
    if pyplatform.system() == "Darwin":
        raw["sysctl"] = _output(["sysctl", *SYSCTL_KEYS])  # unknown OIDs are skipped, the rest printed
    else:
        raw["meminfo"] = _read("/proc/meminfo")
    if shutil.which("nvidia-smi"):
        raw["nvidia-smi"] = _output(["nvidia-smi"])
        raw["nvidia-smi-query"] = _output(NVIDIA_QUERY)
    return raw


def _output(argv: list[str]) -> str:
    result = run(argv, check=False, timeout=20)
    return result.stdout


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def parse_sysctl(text: str) -> dict[str, str]:
    """`key: value` lines (also `key = value`, as older macOS prints) to a dict."""
    out = {}
    for line in text.splitlines():
        match = re.match(r"^([\w.]+)\s*[:=]\s*(.*)$", line.strip())
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def parse_meminfo(text: str) -> int | None:
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_cuda_version(nvidia_smi: str) -> str | None:
    match = re.search(r"CUDA Version:\s*([\d.]+)", nvidia_smi)
    return match.group(1) if match else None


def parse_gpus(query: str) -> list[Gpu]:
    gpus = []
    for line in query.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[1].isdigit():
            gpus.append(Gpu(parts[0], int(parts[1]), parts[2]))
    return gpus


def conda_subdir(system: str, machine: str) -> str | None:
    return {
        ("Darwin", "arm64"): "osx-arm64",
        ("Darwin", "x86_64"): "osx-64",
        ("Linux", "x86_64"): "linux-64",
        ("Linux", "aarch64"): "linux-aarch64",
    }.get((system, machine))


def parse_facts(raw: dict[str, str]) -> HostFacts:
    python = json.loads(raw.get("python", "{}"))
    system, machine = python.get("system", ""), python.get("machine", "")
    sysctl = parse_sysctl(raw.get("sysctl", ""))
    libc = python.get("libc") or ["", ""]
    memsize = sysctl.get("hw.memsize")
    return HostFacts(
        system=system,
        machine=machine,
        subdir=conda_subdir(system, machine),
        apple_silicon=sysctl.get("hw.optional.arm64") == "1",
        # Missing on Intel Macs and before macOS 11 ("unknown oid"): not translated.
        translated=sysctl.get("sysctl.proc_translated") == "1",
        macos=sysctl.get("kern.osproductversion"),
        chip=sysctl.get("machdep.cpu.brand_string"),
        memory_bytes=int(memsize) if memsize and memsize.isdigit() else parse_meminfo(raw.get("meminfo", "")),
        glibc=libc[1] if libc[0] == "glibc" else None,
        cuda_driver=parse_cuda_version(raw.get("nvidia-smi", "")),
        gpus=parse_gpus(raw.get("nvidia-smi-query", "")),
    )


def this_host() -> HostFacts:
    return parse_facts(collect_raw())
