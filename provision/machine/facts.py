"""Read-only facts about this machine.

Collecting runs a few read-only commands and keeps their raw text, keyed by source;
parsing is a pure function of that text. `provision doctor --save-facts DIR` writes the
raw outputs, `--facts DIR` reads them back, so a real Mac's outputs replay anywhere.
"""

from __future__ import annotations

import json
import os
import platform as pyplatform
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FactsError
from ..files import NotRegularFile, TooLarge, read_capped
from ..runner import run
from .nvidia import QUERY as NVIDIA_QUERY
from .nvidia import Gpu, parse_nvidia

SYSCTL_KEYS = [
    "hw.memsize", "hw.optional.arm64", "sysctl.proc_translated", "kern.osproductversion",
    "machdep.cpu.brand_string", "hw.perflevel0.logicalcpu", "hw.perflevel1.logicalcpu", "hw.ncpu",
    "iogpu.wired_limit_mb", "vm.swapusage",
]  # fmt: skip
LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "VIRTUAL_ENV")


@dataclass(frozen=True)
class HostFacts:
    system: str  # "Darwin" or "Linux"
    machine: str  # the interpreter's view: "arm64", "x86_64", "aarch64"
    subdir: str | None  # the conda platform this Python runs as
    apple_silicon: bool = False  # the hardware, even when this process runs under Rosetta
    translated: bool = False  # this process runs under Rosetta 2
    macos: str | None = None
    chip: str | None = None
    performance_cores: int | None = None
    efficiency_cores: int | None = None
    cpu_cores: int | None = None
    gpu_cores: int | None = None
    memory_bytes: int | None = None
    wired_limit_mb: int | None = None  # iogpu.wired_limit_mb; 0 means the system default
    swap_total_bytes: int | None = None
    swap_used_bytes: int | None = None
    homebrew_prefix: str | None = None
    command_line_tools: str | None = None  # xcode-select -p, or None when absent
    free_disk_bytes: int | None = None
    glibc: str | None = None
    cpu_model: str | None = None
    simd: list[str] = field(default_factory=list)
    cuda_driver: str | None = None  # the highest CUDA version the NVIDIA driver supports
    nvidia_driver: str | None = None  # the driver's own version, e.g. 535.104.12
    python_version: str | None = None  # the interpreter provision runs on (facts folders before 0.2 lack it)
    # Replayed from a facts folder: which outputs it held. None for this machine (everything was asked).
    # A fact whose output is absent is unknown, never "missing" (an absent xcode-select.txt is no
    # evidence the tools are absent).
    recorded: frozenset[str] | None = None

    def knows(self, fact: str) -> bool:
        return self.recorded is None or fact in self.recorded
    gpus: list[Gpu] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)  # variables that leak into environments
    overrides: dict[str, str] = field(default_factory=dict)  # CONDA_OVERRIDE_* in effect (name -> value)

    def as_dict(self) -> dict[str, Any]:
        """The machine's facts (not where they were read from: a replay equals the live reading)."""
        out = asdict(self)
        out.pop("recorded")
        return out

    @property
    def target_subdir(self) -> str | None:
        """The platform environments are built for here: osx-arm64 on Apple silicon, also when this
        Python runs as x86_64 under Rosetta (the environment's own interpreter is native)."""
        return "osx-arm64" if self.system == "Darwin" and self.apple_silicon else self.subdir


def collect_raw(disk_path: Path | None = None) -> dict[str, str]:
    """Every raw output parse_facts() reads, keyed by source (also the file names of --save-facts)."""
    raw = {
        "python": json.dumps(
            {"system": pyplatform.system(), "machine": pyplatform.machine(), "libc": list(pyplatform.libc_ver()),
             "version": pyplatform.python_version()}
        ),
        "environment": json.dumps({k: os.environ[k] for k in LEAKY_VARIABLES if k in os.environ}),
        "disk": json.dumps({"free": shutil.disk_usage(_existing(disk_path or Path.home())).free}),
    }
    if pyplatform.system() == "Darwin":
        raw["sysctl"] = _output(["sysctl", *SYSCTL_KEYS])  # unknown OIDs are skipped, the rest printed
        raw["ioreg-agx"] = _output(["ioreg", "-rc", "AGXAccelerator", "-d1"])
        raw["xcode-select"] = _output(["xcode-select", "-p"])
        # system_profiler takes about a second: only when sysctl cannot name the chip (M1 on macOS 11).
        if parse_sysctl(raw["sysctl"]).get("machdep.cpu.brand_string", "Apple processor") == "Apple processor":
            raw["system_profiler-hardware"] = _output(["system_profiler", "SPHardwareDataType", "-json"])
    else:
        raw["meminfo"] = _read("/proc/meminfo")
        raw["cpuinfo"] = _read("/proc/cpuinfo")
    brew = shutil.which("brew")
    if brew:
        raw["brew-prefix"] = _output([brew, "--prefix"])
    if shutil.which("nvidia-smi"):
        raw["nvidia-smi"] = _output(["nvidia-smi"])
        raw["nvidia-smi-query"] = _output(NVIDIA_QUERY)  # fails on drivers without compute_cap: the table remains
    return raw


def save_raw(raw: dict[str, str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, text in sorted(raw.items()):
        path = folder / f"{key}.txt"
        path.write_text(text)
        paths.append(path)
    return paths


# Real outputs are a few kB (system_profiler's JSON the largest); a facts folder is untrusted.
MAX_FACT_BYTES = 1_000_000


# The facts folder's layout (what `doctor --save-facts` writes, one file per output, FILE.txt):
FACT_FILES = {
    "python": "JSON: system, machine, libc, version of the interpreter (platform module)",
    "environment": "JSON: variables that leak into environments",
    "disk": "JSON: free bytes",
    "sysctl": "macOS: sysctl of the keys provision reads (older macOS: machdep.cpu.core_count)",
    "ioreg-agx": "macOS: ioreg -rc AGXAccelerator -d1 (GPU core count)",
    "xcode-select": "macOS: xcode-select -p",
    "system_profiler-hardware": "macOS: system_profiler SPHardwareDataType (-json, or its text)",
    "system_profiler-displays": "macOS: system_profiler SPDisplaysDataType text (GPU core count)",
    "meminfo": "Linux: /proc/meminfo",
    "cpuinfo": "Linux: /proc/cpuinfo",
    "brew-prefix": "brew --prefix",
    "nvidia-smi": "nvidia-smi (the table) or nvidia-smi -q",
    "nvidia-smi-query": "nvidia-smi --query-gpu=... --format=csv",
}


def unknown_fact_files(folder: Path) -> list[str]:
    """Files in a facts folder that provision does not read: named, so a typo is never silently ignored."""
    return sorted(p.name for p in folder.iterdir() if p.suffix != ".txt" or p.stem not in FACT_FILES)


def load_raw(folder: Path) -> dict[str, str]:
    """The saved outputs in `folder`: regular files only, each capped and decoded with replacement
    (a FIFO would hang the read, a link to /dev/zero would never end). A folder with none of the
    files of FACT_FILES is an error: it describes no machine."""
    raw = {}
    known = [folder / f"{name}.txt" for name in FACT_FILES if (folder / f"{name}.txt").exists()]
    if not known:
        expected = ", ".join(f"{name}.txt" for name in FACT_FILES)
        raise FactsError(f"{folder}: no facts file here (expected some of {expected}); "
                         "save them with `provision doctor --save-facts DIR`.")  # fmt: skip
    for path in known:
        try:
            data = read_capped(path, MAX_FACT_BYTES)
        except NotRegularFile:
            raise FactsError(f"{path}: not a regular file; a facts folder holds only saved text outputs.") from None
        except TooLarge:
            raise FactsError(f"{path}: larger than {MAX_FACT_BYTES} bytes; save the facts again.") from None
        except OSError as exc:
            raise FactsError(f"{path}: cannot be read ({exc.strerror}).") from None
        raw[path.stem] = data.decode("utf-8", errors="replace")
    return raw


def _json_fact(raw: dict[str, str], key: str, kind: type, origin: str) -> Any:
    """A JSON-valued fact, checked for its type; a broken one names its file."""
    text = raw.get(key) or ""
    if not text.strip():
        return kind()
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # malformed, or nested past the parser's depth
        value = None
    if not isinstance(value, kind):
        raise FactsError(f"{origin}{key}.txt: not the JSON {kind.__name__} that --save-facts writes; save it again.")
    return value


def _fact_version(text: str | None) -> str | None:
    """A version-shaped fact (macOS, glibc), or None: anything else would break the comparisons."""
    text = (text or "").strip()
    return text if re.fullmatch(r"\d+(\.\d+){0,3}", text) else None


def _existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _output(argv: list[str]) -> str:
    return run(argv, check=False, timeout=20).stdout


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


def _int(text: str | None) -> int | None:
    """The last integer in a value: '26000 -> 26000' (as sysctl prints a change) reads 26000; 'inf', 'nan'
    and 'Infinity' (JSON from a hostile facts folder) read as unknown."""
    if text is not None and re.search(r"(?i)\b(inf|infinity|nan)\b", text):
        return None
    numbers = re.findall(r"\d{1,19}", text or "")  # a longer run is no count of anything
    return int(numbers[-1]) if numbers else None


def _size(text: str) -> int | None:
    """'1024.00M' or '2.5G' (vm.swapusage) to bytes."""
    match = re.match(r"([\d.]+)([KMGT])", text)
    if not match:
        return None
    return int(float(match.group(1)) * 1024 ** "KMGT".index(match.group(2)) * 1024)


def parse_swapusage(text: str) -> tuple[int | None, int | None]:
    """'total = 2048.00M  used = 1058.25M  free = 989.75M  (encrypted)' -> (total, used) bytes."""
    total = re.search(r"total = (\S+)", text)
    used = re.search(r"used = (\S+)", text)
    return (_size(total.group(1)) if total else None, _size(used.group(1)) if used else None)


def parse_meminfo(text: str, key: str = "MemTotal") -> int | None:
    match = re.search(rf"^{key}:\s+(\d{{1,12}})\s+kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_cpuinfo(text: str) -> tuple[str | None, list[str], int | None]:
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    flags = re.search(r"^(flags|Features)\s*:\s*(.*)$", text, re.MULTILINE)
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "asimd", "sve", "sve2")
    simd = [f for f in wanted if flags and f in flags.group(2).split()]
    cores = len(re.findall(r"^processor\s*:", text, re.MULTILINE)) or None
    return (model.group(1).strip() if model else None), simd, cores


def parse_gpu_cores(ioreg: str) -> int | None:
    match = re.search(r'"gpu-core-count"\s*=\s*(\d+)', ioreg)
    return int(match.group(1)) if match else None


def parse_profiler_chip(text: str) -> tuple[str | None, int | None]:
    """chip_type and physical_memory from `system_profiler SPHardwareDataType -json`."""
    try:
        items = json.loads(text).get("SPHardwareDataType") or [{}]
    except (ValueError, AttributeError, RecursionError):
        return None, None
    item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    chip = item.get("chip_type")
    memory = re.match(r"(\d{1,12})\s*GB", str(item.get("physical_memory", "")))
    return (chip if isinstance(chip, str) else None), (int(memory.group(1)) * 1024**3 if memory else None)


def parse_cuda_version(nvidia_smi: str) -> str | None:
    return parse_nvidia(nvidia_smi).cuda


def parse_gpus(query: str) -> list[Gpu]:
    return parse_nvidia("", query).gpus


def conda_subdir(system: str, machine: str) -> str | None:
    from ..platforms import subdir_of

    return subdir_of(system, machine)


def parse_facts(raw: dict[str, str], origin: str = "") -> HostFacts:
    """Facts from raw outputs; `origin` (a folder, with its slash) names files in errors."""
    python = _json_fact(raw, "python", dict, origin)
    nvidia = parse_nvidia(raw.get("nvidia-smi", ""), raw.get("nvidia-smi-query", ""))
    system, machine = str(python.get("system", "")), str(python.get("machine", ""))
    sysctl = parse_sysctl(raw.get("sysctl", ""))
    for key in ("disk", "environment"):  # a broken JSON file is named before anything is inferred
        _json_fact(raw, key, dict, origin)
    if not system:  # no python.txt: what the other outputs say, or refuse (planning against "/" helps no one)
        system, machine = _system_from(raw, sysctl, origin)
    libc = python.get("libc")
    libc = [str(part) for part in libc] if isinstance(libc, list) and len(libc) == 2 else ["", ""]
    profiler = parse_profiler(raw.get("system_profiler-hardware", ""), raw.get("system_profiler-displays", ""))
    profiler_chip, profiler_memory = profiler.chip, profiler.memory_bytes
    chip = sysctl.get("machdep.cpu.brand_string")
    if chip in (None, "Apple processor") and profiler_chip:  # an M1 on macOS 11 says "Apple processor"
        chip = profiler_chip
    cpu_model, simd, linux_cores = parse_cpuinfo(raw.get("cpuinfo", ""))
    swap_total, swap_used = parse_swapusage(sysctl.get("vm.swapusage", ""))
    meminfo = raw.get("meminfo", "")
    if meminfo:
        swap_total = parse_meminfo(meminfo, "SwapTotal")
        free = parse_meminfo(meminfo, "SwapFree")
        swap_used = swap_total - free if swap_total is not None and free is not None else None
    xcode = raw.get("xcode-select", "").strip()
    return HostFacts(
        system=system,
        machine=machine,
        subdir=conda_subdir(system, machine),
        apple_silicon=sysctl.get("hw.optional.arm64") == "1",
        # Missing on Intel Macs and before macOS 11 ("unknown oid"): not translated.
        translated=sysctl.get("sysctl.proc_translated") == "1",
        macos=_fact_version(sysctl.get("kern.osproductversion")) or profiler.macos,
        chip=chip,
        performance_cores=_int(sysctl.get("hw.perflevel0.logicalcpu")) or profiler.performance_cores,
        efficiency_cores=_int(sysctl.get("hw.perflevel1.logicalcpu")) or profiler.efficiency_cores,
        # hw.ncpu, else the older machdep.cpu.core_count (macOS 10.x), else Linux's or system_profiler's count
        cpu_cores=_int(sysctl.get("hw.ncpu")) or _int(sysctl.get("machdep.cpu.core_count")) or linux_cores
        or profiler.cpu_cores,
        gpu_cores=parse_gpu_cores(raw.get("ioreg-agx", "")) or profiler.gpu_cores,
        memory_bytes=_int(sysctl.get("hw.memsize")) or parse_meminfo(meminfo) or profiler_memory,
        wired_limit_mb=_int(sysctl.get("iogpu.wired_limit_mb")),
        swap_total_bytes=swap_total,
        swap_used_bytes=swap_used,
        homebrew_prefix=raw.get("brew-prefix", "").strip() or None,
        command_line_tools=xcode or None,
        free_disk_bytes=_int(str(_json_fact(raw, "disk", dict, origin).get("free", ""))),
        glibc=_fact_version(libc[1]) if libc[0] == "glibc" else None,
        cpu_model=cpu_model or (chip if system == "Darwin" else None),
        simd=simd,
        cuda_driver=nvidia.cuda,
        nvidia_driver=nvidia.driver,
        python_version=str(python["version"]) if isinstance(python.get("version"), str) else None,
        gpus=nvidia.gpus,
        environment={str(k): str(v) for k, v in _json_fact(raw, "environment", dict, origin).items()},
        recorded=frozenset(raw) if origin else None,
    )


def _system_from(raw: dict[str, str], sysctl: dict[str, str], origin: str) -> tuple[str, str]:
    if sysctl or "system_profiler-hardware" in raw:
        return "Darwin", "arm64" if sysctl.get("hw.optional.arm64") == "1" or "Apple M" in raw.get(
            "system_profiler-hardware", "") else ("x86_64" if sysctl else "arm64")  # fmt: skip
    if "meminfo" in raw or "cpuinfo" in raw:
        flags = raw.get("cpuinfo", "")
        return "Linux", "aarch64" if "CPU implementer" in flags else "x86_64"
    raise FactsError(f"{origin}python.txt: missing, and no other output says which system this is; "
                     "save the facts again with `provision doctor --save-facts DIR`.")  # fmt: skip


@dataclass(frozen=True)
class ProfilerFacts:
    chip: str | None = None
    memory_bytes: int | None = None
    cpu_cores: int | None = None
    performance_cores: int | None = None
    efficiency_cores: int | None = None
    gpu_cores: int | None = None
    macos: str | None = None


def parse_profiler(hardware: str, displays: str = "") -> ProfilerFacts:
    """`system_profiler SPHardwareDataType` as JSON (-json) or as the text people paste, and the GPU
    core count from SPDisplaysDataType's text ("Total Number of Cores: 38" under "Chipset Model")."""
    chip, memory = parse_profiler_chip(hardware)
    text = hardware if chip is None else ""
    found = re.search(r"^\s*Chip:\s*(.+?)\s*$", text, re.MULTILINE)
    size = re.search(r"^\s*Memory:\s*(\d{1,12})\s*GB\s*$", text, re.MULTILINE)
    split = r"(?:\s*\((\d{1,4}) performance and (\d{1,4}) efficiency\))?"
    cores = re.search(r"^\s*Total Number of Cores:\s*(\d{1,6})" + split, text, re.MULTILINE)
    version = re.search(r"System Version:\s*macOS\s+([\d.]+)", text)
    gpu = re.search(r"Chipset Model:.*?\n(?:.*\n)*?\s*Total Number of Cores:\s*(\d{1,12})", displays)
    return ProfilerFacts(
        chip=chip or (found.group(1) if found else None),
        memory_bytes=memory or (int(size.group(1)) * 1024**3 if size else None),
        cpu_cores=int(cores.group(1)) if cores else None,
        performance_cores=int(cores.group(2)) if cores and cores.group(2) else None,
        efficiency_cores=int(cores.group(3)) if cores and cores.group(3) else None,
        gpu_cores=int(gpu.group(1)) if gpu else None,
        macos=_fact_version(version.group(1)) if version else None,
    )


def this_host() -> HostFacts:
    return parse_facts(collect_raw())


# conda's and pixi's variables for preparing an environment for another machine: a login node
# without the GPU, an image build. An empty CONDA_OVERRIDE_CUDA means "no CUDA", as in conda.
OVERRIDE_FIELDS = {"CONDA_OVERRIDE_CUDA": "cuda_driver", "CONDA_OVERRIDE_GLIBC": "glibc", "CONDA_OVERRIDE_OSX": "macos"}


def with_overrides(host: HostFacts, environ: dict[str, str] | os._Environ[str]) -> HostFacts:
    """`host` with the detected CUDA driver, glibc and macOS version replaced by CONDA_OVERRIDE_*."""
    from dataclasses import replace

    changes: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for variable, attribute in OVERRIDE_FIELDS.items():
        if variable not in environ:
            continue
        value = environ[variable].strip()
        if value and not re.fullmatch(r"\d+(\.\d+){0,3}", value):
            raise ConfigError(variable, f"{value!r} is not a version", f"set it like {variable}=12.4 (empty: none).")
        changes[attribute] = value or None
        seen[variable] = value
    return replace(host, **changes, overrides=seen) if seen else host


def override_note(host: HostFacts) -> str | None:
    """The line that says an override is in effect, or None."""
    if not host.overrides:
        return None
    shown = ", ".join(f"{k}={v or '(none)'}" for k, v in sorted(host.overrides.items()))
    return (
        f"{shown} in effect: host checks use these values instead of this machine's, and acceptance is "
        "deferred to the target machine (--no-verify implied; run `provision verify` there)"
    )
