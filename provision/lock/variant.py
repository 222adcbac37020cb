"""A lock proves its variant: a profile that asks for a GPU (`requires.cuda_driver`) must lock GPU
builds of its accelerator packages, or the lock fails naming the package, the CPU build it got and
why the solver could not take a GPU build. "Installed, but no GPU" is the failure this tool exists
to prevent (conda-lock#426, pixi and uv trackers); a solver that quietly falls back to a CPU build
is its most common cause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolFailed
from ..profile.model import Profile
from .mirrors import Mirrors
from .records import LockedPackage

# The packages whose build decides whether the accelerator is used, per layer: one table.
CONDA_ACCELERATED = ("pytorch", "jaxlib", "tensorflow", "cupy", "torchvision", "torchaudio", "onnxruntime")
PYPI_ACCELERATED = ("torch", "jaxlib", "jax", "tensorflow", "cupy", "torchvision", "torchaudio")
# What marks a CUDA build: conda records that depend on the CUDA driver or pin a CUDA version;
# wheels with a `+cuXXX` local version, or CUDA runtime wheels in the same lock (torch, jax[cuda12]).
CONDA_CUDA_DEPENDENCIES = ("__cuda", "cuda-version", "cudatoolkit", "cuda-cudart", "pytorch-cuda")
PYPI_CUDA_RUNTIME_PREFIX = ("nvidia-", "jax-cuda", "cupy-cuda")


@dataclass(frozen=True)
class CpuBuild:
    package: LockedPackage
    reason: str

    def line(self) -> str:
        built = f"{self.package.version}-{self.package.build}" if self.package.build else self.package.version
        layer = "conda" if self.package.manager == "conda" else "pypi"
        return f"{self.package.name} {built} ({layer}) is a CPU build: {self.reason}"


def is_cuda_conda(package: LockedPackage) -> bool:
    return any(dep in package.dependencies for dep in CONDA_CUDA_DEPENDENCIES) or "cuda" in (package.build or "")


def cpu_builds(profile: Profile, platform: str, packages: Sequence[LockedPackage]) -> list[LockedPackage]:
    """The accelerator packages of a GPU profile's platform that were locked as CPU builds."""
    if not profile.requires.cuda_driver or not platform.startswith("linux"):
        return []
    out = [p for p in packages if p.manager == "conda" and p.name in CONDA_ACCELERATED and not is_cuda_conda(p)]
    wheels = [p for p in packages if p.manager == "pip"]
    runtime = any(p.name.lower().startswith(PYPI_CUDA_RUNTIME_PREFIX) for p in wheels)
    out += [p for p in wheels if p.name.lower() in PYPI_ACCELERATED and "+cu" not in p.version and not runtime]
    return out


def prove_variant(
    profile: Profile, platform: str, packages: Sequence[LockedPackage], mirrors: Mirrors, cache_dir: Path,
    virtual: dict[str, str],
) -> None:  # fmt: skip
    """Raise, naming each CPU build and why, when a GPU profile's lock holds one."""
    found = cpu_builds(profile, platform, packages)
    if not found:
        return
    lines = [CpuBuild(p, _why(p, profile, platform, mirrors, cache_dir, virtual)).line() for p in found]
    raise ToolFailed(
        f"profiles/{profile.name}.yaml [{platform}]: requires.cuda_driver {profile.requires.cuda_driver} asks for GPU "
        f"builds, but {'; '.join(lines)}. Nothing was written."
    )


def _why(package: LockedPackage, profile: Profile, platform: str, mirrors: Mirrors, cache_dir: Path,
         virtual: dict[str, str]) -> str:  # fmt: skip
    """What stopped the solver from taking a CUDA build, asked of the solver itself: the same request
    with the package pinned to a CUDA build, and the virtual packages its failure names."""
    if package.manager == "pip":
        return ("the index gave a wheel without CUDA (no +cu version, no nvidia-* runtime wheels); name a CUDA "
                "index in pypi.indexes and pypi.sources, or use a CUDA extra such as jax[cuda12]")  # fmt: skip
    from .conda_layer import solve_conda

    pinned = profile.model_copy(update={"conda": [*profile.conda, f"{package.name} * *cuda*"]})
    try:
        solve_conda(pinned, platform, mirrors, cache_dir)
    except ToolFailed as failure:
        message = str(failure.__cause__ or failure)
        needs = sorted(set(re.findall(r"(__[a-z_]+ [^\s,]+(?:,[^\s,]+)*), for which no candidates", message)))
        if needs:
            have = ", ".join(f"{k} {v}" for k, v in sorted(virtual.items()))
            return (f"its CUDA builds need {' and '.join(needs)}, which this profile's virtual packages ({have}) "
                    "do not provide; set requires (glibc, cuda_driver) to what the GPU machines have")  # fmt: skip
        if "no candidates were found" in message and package.name in message.split("because of:", 1)[-1][:200]:
            return f"the channels ({', '.join(profile.channels)}) hold no CUDA build of {package.name} for {platform}"
        return f"a CUDA build conflicts with the profile's other pins ({message.splitlines()[0][:200]})"
    return (f"the solver prefers it although a CUDA build also solves; pin the build, e.g. "
            f"'{package.name} * cuda*'")  # fmt: skip


def cuda_runtime(packages: Sequence[LockedPackage]) -> tuple[str, str] | None:
    """The CUDA runtime a platform's lock holds, and which entry says so: conda's `cuda-version` (or
    the older `cudatoolkit`), PyPI's `nvidia-cuda-runtime-cu*`, or a wheel's `+cuXYZ` local version."""
    by_name = {p.name.lower(): p for p in packages}
    for name in ("cuda-version", "cudatoolkit"):
        if name in by_name and by_name[name].manager == "conda":
            return by_name[name].version, name
    runtime = next((p for p in packages if p.manager == "pip" and p.name.lower().startswith("nvidia-cuda-runtime-cu")),
                   None)  # fmt: skip
    if runtime is not None:
        return runtime.version, runtime.name
    for package in packages:
        local = re.search(r"\+cu(\d+)(\d)$", package.version) if package.manager == "pip" else None
        if local:
            return f"{local.group(1)}.{local.group(2)}", f"{package.name} {package.version}"
    return None
