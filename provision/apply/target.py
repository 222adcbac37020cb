"""What one apply works on: a lock, its platform, a prefix, and the profile's settings (if any)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProvisionError
from ..lock.lockfile import LockData
from ..lock.records import LockedPackage
from ..model import Profile
from ..project import Project


def default_prefix(name: str) -> Path:
    """~/.provision/envs/<name>, or $PROVISION_HOME/envs/<name>."""
    home = Path(os.environ.get("PROVISION_HOME") or Path.home() / ".provision")
    return home / "envs" / name


@dataclass(frozen=True)
class Target:
    name: str
    prefix: Path
    platform: str
    lock: LockData
    lock_path: Path
    profile: Profile | None = None  # None when applying a lockfile written by someone else
    brewfile: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def packages(self) -> list[LockedPackage]:
        return self.lock.for_platform(self.platform)

    @property
    def kind(self) -> str:
        if self.profile is not None:
            return self.profile.kind
        return "conda" if any(p.manager == "conda" for p in self.packages) else "venv"

    @property
    def python(self) -> str:
        """The interpreter version a venv is created with (conda brings its own)."""
        version = self.lock.python_version(self.platform)
        if version:
            return version
        return self.profile.python if self.profile and self.profile.python else "3"


def target_for_profile(project: Project, name: str, prefix: Path | None, platform: str) -> Target:
    from ..lock.inputs import lock_path
    from ..lock.lockfile import read_lock
    from ..profiles import load_profile

    profile = load_profile(project, name)
    if profile.abstract:
        raise ProvisionError(
            f"profiles/{name}.yaml: {name} is abstract (only extended); apply a profile that extends it."
        )
    path = project.root / lock_path(name)
    return Target(
        name=name,
        prefix=(prefix or default_prefix(name)).absolute(),
        platform=platform,
        lock=read_lock(path, str(project.relative(path))),
        lock_path=path,
        profile=profile,
        brewfile=project.env_dir(name) / "Brewfile",
        env=dict(profile.env),
    )


def target_for_lockfile(path: Path, prefix: Path | None, platform: str) -> Target:
    """A conda-lock.yml written by anyone (conda-lock, us): no profile, no activation variables."""
    from ..lock.lockfile import read_lock

    name = (
        path.name.removesuffix(".yml").removesuffix(".conda-lock").removesuffix("conda-lock").strip(".-")
        or path.parent.name
    )
    return Target(
        name=name, prefix=(prefix or default_prefix(name)).absolute(), platform=platform,
        lock=read_lock(path), lock_path=path,
    )  # fmt: skip
