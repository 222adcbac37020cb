"""Which variant of a profile a machine gets: the first, in the order the profile declares them, whose
hardware needs this host meets (a CUDA variant needs an NVIDIA driver new enough; a CPU one needs
nothing), unless `--variant` names one. Read-only commands take the variant already installed."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from ..errors import ProvisionError
from ..machine.facts import HostFacts
from ..profile.model import Profile


@dataclass(frozen=True)
class VariantChoice:
    unit: Profile  # the profile as the chosen variant makes it
    reason: str  # one line: why this variant, and how to take another
    forced: bool = False  # --variant named it: advice repeats it


def choose_variant(profile: Profile, host: HostFacts | None, forced: str | None = None,
                   installed: str | None = None) -> VariantChoice:  # fmt: skip
    from ..profile.load import with_variant

    names = list(profile.variants)
    if not names:
        if forced:
            raise ProvisionError(f"profiles/{profile.name}.yaml: {profile.name} has no variants; drop --variant.")
        return VariantChoice(profile, "")
    if forced:
        if forced not in names:
            raise ProvisionError(f"profiles/{profile.name}.yaml: no variant {forced!r}; "
                                 f"{profile.name} has {', '.join(names)}.")  # fmt: skip
        return VariantChoice(with_variant(profile, forced), f"variant {forced} (--variant)", forced=True)
    if installed in names:
        return VariantChoice(with_variant(profile, installed), f"variant {installed} (the one installed)")
    assert host is not None, "a profile with variants is chosen for a host"
    skipped: list[tuple[str, str]] = []
    for name in names:
        unit = with_variant(profile, name)
        unmet = _unmet(unit, host)
        if unmet is None:
            if not skipped:
                return VariantChoice(unit, f"variant {name}: {_met(unit, host)}")
            first, why = skipped[0]
            return VariantChoice(unit, f"variant {name}: {first} {why} (--variant {first} to take it anyway)")
        skipped.append((name, unmet))
    # No variant fits this host: the first is planned, and the host check says what stops it.
    first, why = skipped[0]
    return VariantChoice(with_variant(profile, first), f"variant {first}: no variant fits this host ({first} {why})")


def _unmet(unit: Profile, host: HostFacts) -> str | None:
    """Why this host cannot run the variant's accelerator, or None. Only the hardware decides the choice:
    memory, macOS and glibc are the profile's, the same for every variant, and the host check says them."""
    need = unit.requires.cuda_driver
    if not need:
        return None
    if host.system != "Linux":
        return f"needs an NVIDIA GPU on Linux, this is {host.system}"
    if host.cuda_driver is None:
        return f"needs an NVIDIA driver supporting CUDA {need}, none was found (nvidia-smi)"
    try:
        too_old = Version(host.cuda_driver) < Version(need)
    except InvalidVersion:
        return f"needs CUDA {need}, the driver's CUDA version {host.cuda_driver!r} cannot be read"
    if too_old:
        driver = f"driver {host.nvidia_driver}" if host.nvidia_driver else "driver"
        return f"needs a driver supporting CUDA {need}, this {driver} supports {host.cuda_driver}"
    return None


def _met(unit: Profile, host: HostFacts) -> str:
    need = unit.requires.cuda_driver
    if need:
        driver = f"NVIDIA driver {host.nvidia_driver}" if host.nvidia_driver else "NVIDIA driver"
        return f"the {driver} supports CUDA {host.cuda_driver} (needs {need})"
    return "needs no accelerator"
