"""Host problems and their exact fixes. Pure: facts and profiles in, findings out."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from packaging.version import Version

from .host import HostFacts
from .model import Profile

GB = 1e9


@dataclass(frozen=True)
class Finding:
    severity: str  # "error", "warning" or "info"
    topic: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def diagnose(host: HostFacts, profiles: dict[str, Profile]) -> list[Finding]:
    findings = _architecture(host) + _toolchain(host) + _resources(host) + _environment(host)
    findings += _profiles(host, profiles)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _architecture(host: HostFacts) -> list[Finding]:
    if host.system == "Darwin" and host.apple_silicon and (host.translated or host.machine != "arm64"):
        return [
            Finding(
                "error",
                "rosetta",
                f"this Python runs as {host.machine} under Rosetta 2 on Apple silicon ({host.chip}): MPS, Metal "
                "plugins and arm64 wheels (mlx) are unavailable, and torch stops at 2.2.2",
                "install a native arm64 Python (Homebrew in /opt/homebrew: `brew install python@3.11`, or "
                "Miniforge's arm64 installer), never python.org's x86 build or an x86 Anaconda; then re-run provision "
                'with it. Check: python3 -c "import platform; print(platform.machine())" prints arm64',
            )
        ]
    return []


def _toolchain(host: HostFacts) -> list[Finding]:
    out: list[Finding] = []
    if host.system != "Darwin":
        return out
    if host.apple_silicon and host.homebrew_prefix == "/usr/local":
        out.append(
            Finding(
                "warning",
                "homebrew",
                "Homebrew lives in /usr/local: that is the Intel (Rosetta) Homebrew on an Apple-silicon Mac",
                "install the native Homebrew in /opt/homebrew (the official installer does this on arm64), "
                "put /opt/homebrew/bin first on PATH, and reinstall your formulae with it",
            )
        )
    if host.homebrew_prefix is None:
        out.append(
            Finding(
                "info",
                "homebrew",
                "Homebrew is not installed (profiles with brew entries need it)",
                '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"',
            )
        )
    if host.command_line_tools is None:
        out.append(
            Finding(
                "error",
                "xcode",
                "the Xcode command-line tools are missing (Apple's TF, JAX and PyTorch pages require them)",
                "xcode-select --install",
            )
        )
    return out


def _resources(host: HostFacts) -> list[Finding]:
    out = []
    if host.free_disk_bytes is not None and host.free_disk_bytes < 20 * GB:
        severity = "error" if host.free_disk_bytes < 5 * GB else "warning"
        out.append(
            Finding(
                severity,
                "disk",
                f"{host.free_disk_bytes / GB:.1f} GB free; ML environments take 2-10 GB each",
                "free disk space (caches: ~/.cache/provision, ~/Library/Caches/pip, old environments)",
            )
        )
    if host.swap_total_bytes and host.swap_used_bytes is not None:
        share = host.swap_used_bytes / host.swap_total_bytes
        if share > 0.5 and host.swap_used_bytes > 1 * GB:
            out.append(
                Finding(
                    "warning",
                    "swap",
                    f"{host.swap_used_bytes / GB:.1f} GB of swap in use ({share:.0%}): "
                    "benchmarks and training will be slow and unrepresentative",
                    "close memory-hungry applications or reboot before benchmarking",
                )
            )
    return out


def _environment(host: HostFacts) -> list[Finding]:
    out = []
    env = host.environment
    if env.get("CONDA_DEFAULT_ENV") == "base" or (env.get("CONDA_PREFIX") and not env.get("CONDA_DEFAULT_ENV")):
        out.append(
            Finding(
                "warning",
                "conda-base",
                f"conda's base environment is active ({env.get('CONDA_PREFIX', '?')}): its packages and PATH "
                "leak into everything started from this shell",
                "conda config --set auto_activate_base false, then open a new shell",
            )
        )
    for name in ("PYTHONPATH", "PYTHONHOME"):
        if env.get(name):
            out.append(
                Finding(
                    "warning",
                    name.lower(),
                    f"{name} is set ({env[name]}): every environment will import from there first",
                    f"unset {name} (and remove it from your shell profile)",
                )
            )
    return out


def _profiles(host: HostFacts, profiles: dict[str, Profile]) -> list[Finding]:
    out = []
    for name, profile in sorted(profiles.items()):
        needs = profile.requires
        if (
            host.system == "Darwin"
            and needs.macos
            and host.macos
            and any(p.startswith("osx") for p in profile.platforms)
            and Version(host.macos) < Version(needs.macos)
        ):
            out.append(
                Finding(
                    "warning",
                    "macos",
                    f"{name} needs macOS {needs.macos}; this Mac runs {host.macos}",
                    "update macOS (System Settings > General > Software Update)",
                )
            )
        if host.system == "Linux" and needs.cuda_driver and host.subdir in profile.platforms:
            if host.cuda_driver is None:
                out.append(
                    Finding(
                        "info",
                        "nvidia",
                        f"{name} needs an NVIDIA driver supporting CUDA {needs.cuda_driver}; none found (nvidia-smi)",
                        "install the NVIDIA driver, or use a CPU profile",
                    )
                )
            elif Version(host.cuda_driver) < Version(needs.cuda_driver):
                out.append(
                    Finding(
                        "warning",
                        "nvidia",
                        f"{name} needs CUDA {needs.cuda_driver}; the driver supports {host.cuda_driver}",
                        "update the NVIDIA driver",
                    )
                )
    return out
