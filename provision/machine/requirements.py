"""Every rule about the host, once: `apply`'s preflight blocks on the errors, `doctor` prints them all.

Pure: facts and what a profile requires in, findings out. A finding for a profile is an ERROR when it stops
`apply` of that profile here; doctor, which looks at every profile of the project, shows those as
warnings naming the profile (a machine is rarely meant for every profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from packaging.version import Version

from ..profile.model import Requires
from .facts import HostFacts

GB = 10**9
HOMEBREW_INSTALL = '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"'
NATIVE_PYTHON = (
    "install a native arm64 Python (Homebrew in /opt/homebrew: `brew install python@3.11`, or Miniforge's "
    "arm64 installer), never python.org's x86 build or an x86 Anaconda; then run provision with it. "
    'Check: python3 -c "import platform; print(platform.machine())" prints arm64'
)


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    topic: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity.value, "topic": self.topic, "message": self.message, "fix": self.fix}

    def line(self) -> str:
        """The one-line form preflight prints: the problem, then the fix."""
        return f"{self.message}; {self.fix}"


def under_rosetta(host: HostFacts) -> bool:
    return host.system == "Darwin" and host.apple_silicon and (host.translated or host.machine != "arm64")


def rosetta(host: HostFacts, arm64_native: bool = True) -> list[Finding]:
    """An x86 Python under Rosetta on Apple silicon: MPS, Metal plugins and arm64 wheels are out of reach.
    An error unless the profile says `arm64_native: false` (then a warning: provision runs under
    Rosetta and still builds the arm64 environment)."""
    if not under_rosetta(host):
        return []
    severity = Severity.ERROR if arm64_native else Severity.WARNING
    return [
        Finding(
            severity,
            "rosetta",
            f"this Python runs as {host.machine} under Rosetta 2 on Apple silicon ({host.chip}): MPS, Metal "
            "plugins and arm64 wheels (mlx) are unavailable to it, and torch stops at 2.2.2",
            NATIVE_PYTHON,
        )
    ]


UNCHECKED = "unchecked: "


def unchecked(topic: str, what: str) -> Finding:
    """A requirement that depends on a fact nobody recorded: said, never passed silently
    (`doctor --strict` fails on it)."""
    return Finding(Severity.WARNING, topic, UNCHECKED + what, "save the facts again on that machine "
                   "(`provision doctor --save-facts DIR`), or check it there by hand")  # fmt: skip


def for_requirements(needs: Requires, host: HostFacts, platforms: list[str]) -> list[Finding]:
    """What stops (errors) or weakens (warnings) an apply of an environment for `platforms` that `needs` this."""
    out = rosetta(host, needs.arm64_native)
    subdir = host.target_subdir
    if subdir not in platforms and not (out and out[0].severity is Severity.ERROR):
        out.append(
            Finding(
                Severity.ERROR,
                "platform",
                f"this machine is {subdir or host.system + '/' + host.machine}, "
                f"this environment is for {', '.join(platforms)}",
                "add the platform to the profile and run `provision lock`, or use another profile",
            )
        )
    if needs.macos and host.system == "Darwin" and host.macos is None:
        out.append(unchecked("macos", f"the facts hold no macOS version; this profile needs {needs.macos}"))
    if needs.macos and host.system == "Darwin" and host.macos and Version(host.macos) < Version(needs.macos):
        out.append(
            Finding(
                Severity.ERROR,
                "macos",
                f"macOS {host.macos} is older than the {needs.macos} this profile needs",
                "update macOS (System Settings > General > Software Update)",
            )
        )
    if needs.memory_gb and host.memory_bytes and host.memory_bytes < needs.memory_gb * GB * 0.95:
        out.append(
            Finding(
                Severity.ERROR,
                "memory",
                f"this machine has {host.memory_bytes / GB:.1f} GB of memory, the profile needs {needs.memory_gb:g} GB",
                "use a machine with more memory, or a smaller profile",
            )
        )
    if needs.cuda_driver and host.system == "Linux":
        if host.cuda_driver is None:
            out.append(
                Finding(
                    Severity.ERROR,
                    "nvidia",
                    f"no NVIDIA driver found (nvidia-smi); this profile needs one supporting CUDA {needs.cuda_driver}",
                    "install the NVIDIA driver, or prepare the environment for the GPU nodes with "
                    f"CONDA_OVERRIDE_CUDA={needs.cuda_driver}",
                )
            )
        elif Version(host.cuda_driver) < Version(needs.cuda_driver):
            out.append(
                Finding(
                    Severity.ERROR,
                    "nvidia",
                    f"the NVIDIA driver supports CUDA {host.cuda_driver}, the profile needs {needs.cuda_driver}",
                    "update the NVIDIA driver",
                )
            )
    if needs.glibc and host.glibc and Version(host.glibc) < Version(needs.glibc):
        out.append(
            Finding(
                Severity.ERROR,
                "glibc",
                f"glibc {host.glibc} is older than the {needs.glibc} this profile needs",
                "use a newer Linux distribution, or lower requires.glibc and re-lock",
            )
        )
    return out


def blocking(findings: list[Finding]) -> list[str]:
    """The lines preflight stops on."""
    return [f.line() for f in findings if f.severity is Severity.ERROR]
