"""What a pack carries so that a node with only python3 can run provision (`python3 PACK apply`):
the wheels of provision's dependencies from the bootstrap lock (the project's root
conda-lock.yml, rendered from profiles/bootstrap.yaml), provision's own code, and the stdlib-only
runner `pack_runner.py` as the pack's `__main__.py`.

The bootstrap lock must hold every runtime requirement of this provision but those only a team machine
uses (TEAM_SIDE), or the packed copy could not start: that is checked here, when the pack is made, not on
the node. A node that asks for a team-side command is told so in one line (`team_side`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import LockfileError
from ..layout import BOOTSTRAP, lock_path
from ..lock.lockfile import read_lock
from ..lock.records import LockedPackage
from .pack_runner import MANIFEST_SCHEMA

BOOTSTRAP_LOCK = lock_path(BOOTSTRAP)  # the root conda-lock.yml, from profiles/bootstrap.yaml

# Requirements a node never needs (it applies and verifies): a pack leaves them and their dependencies out,
# which halves what it carries besides the environment. Where they are imported, a missing one is
# errors.TeamSideMissing's one line.
TEAM_SIDE = ("conda-lock", "matplotlib")


@dataclass(frozen=True)
class CodeFile:
    relative: str  # e.g. provision/cli.py
    source: Path
    sha256: str


@dataclass(frozen=True)
class Bootstrap:
    platform: str
    primary: str  # the bootstrap lock's Python, which images and batch jobs run the pack with
    wheels: dict[str, list[LockedPackage]]  # Python version -> the wheels provision runs with there
    code: list[CodeFile]

    @property
    def pythons(self) -> list[str]:
        return sorted(self.wheels, key=lambda v: tuple(int(x) for x in v.split(".")))

    @property
    def files(self) -> list[LockedPackage]:
        """Each wheel once (a pure-Python wheel serves every Python)."""
        return list({w.sha256: w for wheels in self.wheels.values() for w in wheels}.values())

    def manifest(self) -> dict[str, object]:
        return {
            "schema": MANIFEST_SCHEMA,
            "platform": self.platform,
            "pythons": {
                python: [{"name": w.name, "file": w.file_name, "sha256": w.sha256} for w in wheels]
                for python, wheels in sorted(self.wheels.items())
            },
            "code": [{"path": c.relative, "sha256": c.sha256} for c in self.code],
        }


def bootstrap_for(project_root: Path, platform: str, pythons: tuple[str, ...] = ()) -> Bootstrap:
    """The bootstrap for `platform`, from the project's bootstrap lock and this provision's code.

    The lock holds the wheels for the bootstrap profile's Python. For each other Python in `pythons`,
    the same profile is resolved again at pack time for that Python, preferring the lock's versions:
    its wheels' hashes then come from the index, as when a lock is written."""
    path = project_root / BOOTSTRAP_LOCK
    if not path.is_file():
        raise LockfileError(
            BOOTSTRAP_LOCK, "no bootstrap lock, so the pack could not carry provision itself",
            "run `provision lock bootstrap`, or pack with --no-bootstrap (the node then needs provision)",
        )  # fmt: skip
    lock = read_lock(path, BOOTSTRAP_LOCK)
    if platform not in lock.platforms:
        raise LockfileError(
            BOOTSTRAP_LOCK, f"the bootstrap lock has no {platform}",
            f"add {platform} to profiles/bootstrap.yaml and run `provision lock bootstrap`",
        )  # fmt: skip
    python = lock.python_version(platform)
    if not python:
        raise LockfileError(BOOTSTRAP_LOCK, "the bootstrap lock records no Python", "run `provision lock bootstrap`")
    locked = [p for p in lock.for_platform(platform) if p.manager == "pip"]
    sets = {_minor(python): locked}
    for other in pythons:
        if _minor(other) not in sets:
            sets[_minor(other)] = _resolved_for(project_root, platform, other, locked)
    for version, wheels in sets.items():
        _require_everything(platform, version, wheels)
    return Bootstrap(platform, _minor(python), sets, own_code())


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _resolved_for(project_root: Path, platform: str, python: str, locked: list[LockedPackage]) -> list[LockedPackage]:
    from ..lock.pypi_layer import resolve_pypi
    from ..profile.load import load_profile
    from ..project import Project

    profile = load_profile(Project(project_root), BOOTSTRAP)
    return resolve_pypi(profile, platform, python, {}, project_root, locked)


def _require_everything(platform: str, python: str, wheels: list[LockedPackage]) -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    have = {canonicalize_name(w.name) for w in wheels}
    if "uv" not in have:
        raise LockfileError(BOOTSTRAP_LOCK, f"{platform}: the bootstrap lock has no uv", "add uv to bootstrap.yaml")
    environment = {"python_version": python, "python_full_version": f"{python}.0", "extra": ""}
    for line in metadata.requires("provision") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue  # an extra (dev) or another Python's backport
        if canonicalize_name(requirement.name) not in have and requirement.name not in TEAM_SIDE:
            raise LockfileError(
                BOOTSTRAP_LOCK, f"{platform} (Python {python}): the bootstrap lacks {requirement.name}, which "
                "provision needs",
                f"add {requirement} to profiles/bootstrap.yaml and run `provision lock bootstrap`",
            )  # fmt: skip


def own_code() -> list[CodeFile]:
    """This provision's package files (sources, templates, data, acceptance scripts)."""
    package = Path(__file__).resolve().parents[1]  # provision/, this module being in provision/consumers/
    files = []
    for source in sorted(package.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts or source.suffix == ".pyc":
            continue
        relative = "provision/" + source.relative_to(package).as_posix()
        files.append(CodeFile(relative, source, hashlib.sha256(source.read_bytes()).hexdigest()))
    return files
