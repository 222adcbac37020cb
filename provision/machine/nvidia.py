"""The NVIDIA driver and GPUs, read from what `nvidia-smi` prints: the default table, the full
query (`-q`), and `--query-gpu=... --format=csv` with or without its header. Pure parsers, tested on
real outputs of H100, H200, A100, L4, consumer RTX cards and old drivers (tests/data/fixtures/nvidia-smi).

Also the one table of which driver each CUDA major version needs, and the check that compares the
CUDA runtime a lock holds with what this machine's driver supports, before anything changes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

# `--query-gpu` fields provision asks for; with the header, so the columns name themselves (older
# drivers lack compute_cap: the table and `-q` still give the rest).
QUERY = ["nvidia-smi", "--query-gpu=name,memory.total,driver_version,compute_cap", "--format=csv,nounits"]

# The oldest Linux driver of each CUDA major version (NVIDIA, CUDA Toolkit release notes, table
# "CUDA Toolkit and Corresponding Driver Versions": 11.0 -> 450.36.06, 12.0 -> 525.60.13, 13.0 -> 580.65.06).
DRIVER_FOR_CUDA = {11: "450.36.06", 12: "525.60.13", 13: "580.65.06"}
# The same release notes' table per CUDA toolkit release (Linux x86_64, the GA driver of each): what a
# driver supports when only its version is known (`--query-gpu` prints no "CUDA Version"). A lower bound:
# a driver newer than the last row supports at least that row's CUDA (565.57 reports 12.7 and is read
# as 12.6; 590.48 reports 13.1 and is read as 13.0), which can refuse a lock it could run, never the reverse.
CUDA_OF_DRIVER = (
    ("450.36.06", "11.0"), ("455.23", "11.1"), ("460.27.03", "11.2"), ("465.19.01", "11.3"),
    ("470.42.01", "11.4"), ("495.29.05", "11.5"), ("510.39.01", "11.6"), ("515.43.04", "11.7"),
    ("520.61.05", "11.8"), ("525.60.13", "12.0"), ("530.30.02", "12.1"), ("535.54.03", "12.2"),
    ("545.23.06", "12.3"), ("550.54.14", "12.4"), ("555.42.02", "12.5"), ("560.28.03", "12.6"),
    ("570.26", "12.8"), ("575.51.03", "12.9"), ("580.65.06", "13.0"),
)  # fmt: skip


def cuda_of_driver(driver: str | None) -> str | None:
    """The highest CUDA the driver's branch is known to support (see CUDA_OF_DRIVER), or None."""
    have = _version(driver or "")
    if not have:
        return None
    supported = [cuda for minimum, cuda in CUDA_OF_DRIVER if _version(minimum) <= have]
    return supported[-1] if supported else None


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int | None
    driver: str | None = None
    compute_capability: str | None = None  # e.g. "9.0" (Hopper), "8.0" (A100), "8.9" (Ada)


@dataclass(frozen=True)
class NvidiaFacts:
    driver: str | None = None  # e.g. "535.104.12"
    cuda: str | None = None  # the highest CUDA version the driver supports ("CUDA Version" in nvidia-smi)
    gpus: list[Gpu] = field(default_factory=list)


def parse_nvidia(table: str, query: str = "") -> NvidiaFacts:
    """What the outputs say; a GPU listed by the query (which has compute capabilities) wins over the table's."""
    driver = _field(r"Driver Version\s*:?\s*([\d.]+)", table) or _field(r"Driver Version\s*:?\s*([\d.]+)", query)
    cuda = _field(r"CUDA Version\s*:?\s*([\d.]+)", table) or _field(r"CUDA Version\s*:?\s*([\d.]+)", query)
    gpus = _from_csv(query) or _from_full_query(table) or _from_full_query(query) or _from_table(table)
    driver = driver or next((g.driver for g in gpus if g.driver), None)
    return NvidiaFacts(driver, cuda or cuda_of_driver(driver), gpus)


def _field(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text)
    return found.group(1) if found else None


def _from_table(text: str) -> list[Gpu]:
    """The default table: `|   0  NVIDIA H100 80GB HBM3   On  | ...` then `| ... |  1MiB /  81559MiB | ...`."""
    gpus = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        head = re.match(r"\|\s+(\d{1,12})\s+(.+?)\s+(On|Off)\s+\|", line)
        if head is None:
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        memory = re.search(r"/\s*(\d{1,12})\s*MiB", following)
        name = re.sub(r"\.\.\.$", "", head.group(2).strip()).strip()  # nvidia-smi cuts long names with "..."
        gpus.append(Gpu(name, int(memory.group(1)) if memory else None))
    return gpus


def _from_full_query(text: str) -> list[Gpu]:
    """`nvidia-smi -q`: one `GPU 00000000:...` section each, with Product Name and FB Memory Usage."""
    gpus = []
    for section in re.split(r"\n(?=GPU [0-9A-Fa-f]{4,}:)", text)[1:]:
        name = _field(r"Product Name\s*:\s*(.+)", section)
        memory = _field(r"FB Memory Usage\s*\n\s*Total\s*:\s*(\d{1,12})\s*MiB", section)
        capability = _field(r"(?:CUDA )?Compute Capability\s*:\s*([\d.]+)", section)
        if name:
            gpus.append(Gpu(name.strip(), int(memory) if memory else None, None, capability))
    return gpus


def _from_csv(text: str) -> list[Gpu]:
    """`--query-gpu` CSV: with its header (any fields, any order) or without it (provision's old
    `name, memory.total, driver_version` with nounits)."""
    try:
        rows = [r for r in csv.reader(io.StringIO(text.strip()), skipinitialspace=True) if r]
    except csv.Error:  # a field past the csv module's limit is no nvidia-smi output
        return []
    if not rows:
        return []
    header = [re.sub(r"\s*\[.*\]$", "", h.strip()) for h in rows[0]]
    if not {"name", "compute_cap", "driver_version", "memory.total"} & set(header):
        if all(len(r) == 3 and r[1].strip().isdigit() for r in rows):
            return [Gpu(r[0].strip(), int(r[1]), r[2].strip()) for r in rows]
        return []
    out: list[Gpu] = []
    for row in rows[1:]:
        values = dict(zip(header, (v.strip() for v in row), strict=False))
        memory = re.match(r"(\d{1,12})", values.get("memory.total", ""))
        name = values.get("name") or f"GPU {len(out)}"  # a query of other fields names no model
        out.append(Gpu(name, int(memory.group(1)) if memory else None, values.get("driver_version") or None,
                       values.get("compute_cap") or None))  # fmt: skip
    return out


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d{1,9}", text)[:3])


def driver_problem(runtime: str | None, where: str, supported: str | None, driver: str | None) -> str | None:
    """One line when this machine's driver cannot run the lock's CUDA runtime, with the fix; None when it can
    (a driver runs any runtime of its CUDA major version or older: CUDA's minor version compatibility)."""
    if runtime is None or supported is None:
        return None
    need, have = _version(runtime), _version(supported)
    if not need or not have or need[0] <= have[0]:
        return None
    needed = DRIVER_FOR_CUDA.get(need[0])
    driver_text = f"driver {driver}" if driver else "the driver"
    install = f"install a driver for CUDA {need[0]}" + (f" ({needed} or newer)" if needed else "")
    pin = f"pin the CUDA runtime to {have[0]}.* in the profile (e.g. 'cuda-version {have[0]}.*') and lock again"
    return (f"the lock's CUDA runtime is {runtime} ({where}), but this machine's NVIDIA {driver_text} supports "
            f"CUDA {supported} at most; {install}, or {pin}")  # fmt: skip
