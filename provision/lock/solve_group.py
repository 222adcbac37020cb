"""The variants of one profile are a solve group: every package they share has one version in all of them.

pixi solves a solve-group's environments together; that cannot hold a CPU and a CUDA build of the same
package, so here the first variant declared is the group's reference and every other variant is solved
constrained to the reference's versions (rattler's `constraints`, uv's `--constraint`): a constraint
never adds a package, it only fixes the version of one the variant pulls in anyway. Builds stay free
(pytorch 2.8.0 cpu_mkl and cuda129 are the same version), as do PyPI local versions (`+cpu`, `+cu129`).
"""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .records import LockedPackage


def public_version(version: str) -> str:
    """A PyPI version without its local part (`2.8.0+cu129` -> `2.8.0`): what variants must share."""
    try:
        return Version(version).public
    except InvalidVersion:
        return version.split("+", 1)[0]


def conda_constraints(reference: list[LockedPackage]) -> list[str]:
    return [f"{p.name} =={p.version}" for p in reference if p.manager == "conda"]


def pypi_constraints(reference: list[LockedPackage]) -> dict[str, str]:
    return {str(canonicalize_name(p.name)): public_version(p.version) for p in reference if p.manager == "pip"}


def disagreements(reference: list[LockedPackage], packages: list[LockedPackage]) -> list[str]:
    """'numpy 2.3.1 (here) / 2.3.2 (reference)' for each package both hold at different versions."""
    theirs = {(p.manager, _key(p)): p.version for p in reference}
    out = []
    for package in packages:
        other = theirs.get((package.manager, _key(package)))
        if other is not None and _shared(package, other) != _shared(package, package.version):
            out.append(f"{package.name} {package.version} here, {other} in the reference")
    return sorted(out)


def _key(package: LockedPackage) -> str:
    return str(canonicalize_name(package.name)) if package.manager == "pip" else package.name


def _shared(package: LockedPackage, version: str) -> str:
    return public_version(version) if package.manager == "pip" else version
