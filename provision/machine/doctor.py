"""Host problems and their exact fixes. Pure: facts and profiles in, findings out.

The rules that decide whether a profile can be applied live in requirements.py (preflight uses the
same ones); this module adds the host-wide advice (Homebrew, disk, swap, leaking variables)."""

from __future__ import annotations

from ..profile.model import Profile
from .facts import HostFacts
from .requirements import HOMEBREW_INSTALL, Finding, Severity, for_requirements, rosetta, unchecked

GB = 1e9


def diagnose(host: HostFacts, profiles: dict[str, Profile]) -> list[Finding]:
    findings = _architecture(host) + _toolchain(host) + _resources(host) + _environment(host)
    findings += _profiles(host, profiles)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _architecture(host: HostFacts) -> list[Finding]:
    return rosetta(host)


def _toolchain(host: HostFacts) -> list[Finding]:
    out: list[Finding] = []
    if host.system != "Darwin":
        return out
    if host.apple_silicon and host.homebrew_prefix == "/usr/local":
        out.append(
            Finding(
                Severity.WARNING,
                "homebrew",
                "Homebrew lives in /usr/local: that is the Intel (Rosetta) Homebrew on an Apple-silicon Mac",
                "install the native Homebrew in /opt/homebrew (the official installer does this on arm64), "
                "put /opt/homebrew/bin first on PATH, and reinstall your formulae with it",
            )
        )
    out += _installed(host, "brew-prefix", host.homebrew_prefix, Finding(
        Severity.INFO, "homebrew", "Homebrew is not installed (profiles with brew entries need it)", HOMEBREW_INSTALL,
    ))  # fmt: skip
    out += _installed(host, "xcode-select", host.command_line_tools, Finding(
        Severity.ERROR, "xcode", "the Xcode command-line tools are missing (Apple's TF, JAX and PyTorch pages require "
        "them)", "xcode-select --install",
    ))  # fmt: skip
    return out


def _installed(host: HostFacts, fact: str, found: object, missing: Finding) -> list[Finding]:
    """A tool the facts may not cover: unchecked when its fact was not saved, `missing` when it is not there."""
    if not host.knows(fact):
        return [unchecked(missing.topic, f"{fact}.txt is not in the facts")]
    return [missing] if found is None else []


def _resources(host: HostFacts) -> list[Finding]:
    out = []
    if host.free_disk_bytes is not None and host.free_disk_bytes < 20 * GB:
        severity = Severity.ERROR if host.free_disk_bytes < 5 * GB else Severity.WARNING
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
                    Severity.WARNING,
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
                Severity.WARNING,
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
                    Severity.WARNING,
                    name.lower(),
                    f"{name} is set ({env[name]}): every environment will import from there first",
                    f"unset {name} (and remove it from your shell profile)",
                )
            )
    return out


def _profiles(host: HostFacts, profiles: dict[str, Profile]) -> list[Finding]:
    """Each profile meant for this kind of machine, checked by the rules preflight uses; what would
    stop its apply shows as a warning naming it (this machine may not be meant for every profile)."""
    out = []
    gpu_profiles = []  # on a machine with no NVIDIA driver, the GPU profiles are named once, together
    for name, profile in sorted(profiles.items()):
        if host.target_subdir not in profile.platforms:
            continue
        for finding in for_requirements(profile.requires, host, list(profile.platforms)):
            if finding.topic == "rosetta":
                continue  # a host-wide finding, reported once
            if finding.topic == "nvidia" and host.cuda_driver is None:
                gpu_profiles.append(name)
                continue
            severity = Severity.WARNING if finding.severity is Severity.ERROR else finding.severity
            out.append(Finding(severity, finding.topic, f"{name}: {finding.message}", finding.fix))
    if gpu_profiles:
        message = f"no NVIDIA driver here (nvidia-smi): {', '.join(gpu_profiles)} need one"
        fix = "apply them on the GPU machines, or prepare them here for those with CONDA_OVERRIDE_CUDA=VERSION"
        out.append(Finding(Severity.INFO, "nvidia", message, fix))
    return out
