"""What provision knows of each platform, in one table: its conda subdir and every other name the
ecosystem gives it (conda-build's selector, Nix's system, wheel and uv architectures, Docker's
platform, the host's uname). Standard library only: the quick path and the layout may read it.

Before, each of these lived in a table of its own (model, render, wheel_tags, export, host); one
platform added or renamed in one of them and not the others failed only when that path ran.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformNames:
    subdir: str  # conda's name, the one profiles and locks use
    selector: str  # conda-build's selector (`# [linux64]`), as conda-lock reads an environment.yml
    nix_system: str  # flake.nix's devShells.<system>
    wheel_arch: str  # the architecture in wheel tags (`macosx_11_0_arm64`, `manylinux_2_28_x86_64`)
    uv_arch: str  # the architecture in uv's --python-platform triple (`aarch64-apple-darwin`)
    docker: str | None  # `FROM --platform=` (Linux only)
    system: str  # what platform.system() says on such a host
    machine: str  # what platform.machine() says there


TABLE = {p.subdir: p for p in (
    PlatformNames("osx-arm64", "arm64", "aarch64-darwin", "arm64", "aarch64", None, "Darwin", "arm64"),
    PlatformNames("linux-64", "linux64", "x86_64-linux", "x86_64", "x86_64", "linux/amd64", "Linux", "x86_64"),
    PlatformNames("linux-aarch64", "aarch64", "aarch64-linux", "aarch64", "aarch64", "linux/arm64", "Linux",
                  "aarch64"),
)}  # fmt: skip
NAMES = tuple(TABLE)
# Hosts provision can describe but not provision (an Intel Mac): named so a refusal can say what it is.
OTHER_HOSTS = {("Darwin", "x86_64"): "osx-64"}


def subdir_of(system: str, machine: str) -> str | None:
    """The conda subdir of a host, from its uname (`Linux`, `x86_64` -> `linux-64`)."""
    found = next((p.subdir for p in TABLE.values() if (p.system, p.machine) == (system, machine)), None)
    return found or OTHER_HOSTS.get((system, machine))
