"""What one apply works on: a lock, its platform, a prefix, and the profile's settings (if any)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import grammar
from ..errors import ProvisionError
from ..lock.lockfile import LockData
from ..lock.records import MAIN, LockedPackage
from ..lock.validate import Rules
from ..machine.facts import HostFacts, this_host
from ..profile.model import Acceptance, Profile, Requires
from ..project import Project
from .editable import Editable, read_editables
from .prefixes import checked_name, default_prefix, resolved
from .stamp import Stamp, file_hash, layer_hash, values_hash


@dataclass(frozen=True)
class Intent:
    """What a target asks beyond its lock's packages. The two kinds of target differ only in these values:
    a profile's settings (`of_profile`), or what a lockfile of anyone's gets (`of_lock`: no benchmarks,
    no Homebrew, native Python only)."""

    kind: str  # "conda" or "venv"
    platforms: tuple[str, ...]
    requires: Requires
    acceptance: Acceptance | None = None  # None: nothing to prove
    variant: str | None = None
    python: str = "3"  # the version a venv is created with when its lock names none
    brew_entries: int = 0
    inputs_tracked: bool = False  # its project files are the lock's inputs (a profile's): the quick path may vouch

    @staticmethod
    def of_profile(profile: Profile) -> Intent:
        brew = profile.brew
        return Intent(
            kind=profile.kind, platforms=tuple(profile.platforms), requires=profile.requires,
            acceptance=profile.acceptance, variant=profile.variant, python=profile.python or "3",
            brew_entries=len(brew.taps) + len(brew.formulae) + len(brew.casks), inputs_tracked=True,
        )  # fmt: skip

    @staticmethod
    def of_lock(lock: LockData) -> Intent:
        # A lock says nothing of Rosetta: a foreign lock's native packages must run natively.
        kind = "conda" if any(p.manager == "conda" for p in lock.packages) else "venv"
        return Intent(kind=kind, platforms=tuple(lock.platforms), requires=Requires(arm64_native=True))


@dataclass(frozen=True)
class Target:
    name: str
    prefix: Path
    platform: str
    lock: LockData
    lock_path: Path
    profile: Profile | None = None  # None for a lockfile of anyone's: `intent` says what that means
    brewfile: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    project_root: Path | None = None  # a prefix may never be this folder or contain it
    offline: Path | None = None  # a pack's artifacts folder: install from there, never from the network
    # The profile's `pypi.editable` projects, read (and refused) when the target is made. A lock or a
    # pack has none: a working tree does not travel.
    editables: tuple[Editable, ...] = ()
    # How the user named what this target comes from, so advice names a command that works for it.
    origin: str = ""
    variant_reason: str = ""  # why this variant of the profile (variant_choice.py), said by plan and apply
    variant_forced: bool = False  # chosen by --variant: a command that makes this environment again names it

    @cached_property
    def intent(self) -> Intent:
        """What this target asks beyond its packages, derived from its source in this one place: every step reads
        the intent, none asks whether there is a profile."""
        return Intent.of_profile(self.profile) if self.profile is not None else Intent.of_lock(self.lock)

    @property
    def variant(self) -> str | None:
        return self.intent.variant

    @property
    def label(self) -> str:
        """The environment as messages name it: `linux-cpu`, or `torch-linux (cuda)`."""
        return f"{self.name} ({self.variant})" if self.variant else self.name

    @property
    def apply_command(self) -> str:
        """The apply that makes this environment, as the user would type it."""
        forced = f" --variant {self.variant}" if self.variant_forced else ""
        return f"provision apply {self.origin or self.name}{forced}"

    @cached_property
    def packages(self) -> list[LockedPackage]:
        """This platform's locked packages, filtered once per target (every stage reads them)."""
        return self.lock.for_platform(self.platform)

    @cached_property
    def wanted(self) -> Stamp:
        """The stamp an apply of this target would write, before the prefix is looked at (its Brewfile is
        hashed once per command)."""
        packages = self.packages
        conda_python = next((p.version for p in packages if p.manager == "conda" and p.name == "python"), None)
        return Stamp(
            profile=self.name, platform=self.platform,
            conda=layer_hash(packages, "conda"), pypi=layer_hash(packages, "pip"),
            activation=values_hash(self.env), brew=file_hash(self.brewfile),
            python=self.python if self.kind == "venv" else conda_python, variant=self.variant,
        )  # fmt: skip

    @property
    def editable_names(self) -> frozenset[str]:
        return frozenset(e.name for e in self.editables)

    @property
    def kind(self) -> str:
        return self.intent.kind

    @property
    def benchmarks(self) -> tuple[str, ...]:
        return tuple(self.intent.acceptance.benchmarks) if self.intent.acceptance else ()

    @property
    def platforms(self) -> list[str]:
        return list(self.intent.platforms)

    @property
    def python(self) -> str:
        """The interpreter version a venv is created with (conda brings its own)."""
        return self.lock.python_version(self.platform) or self.intent.python


def target_for_profile(
    project: Project, name: str, prefix: Path | None, platform: str, rules: Rules | None = None,
    host: HostFacts | None = None, variant: str | None = None, by_host: bool = True,
) -> Target:  # fmt: skip
    """The target of a profile; for one with variants, the variant `variant` names, else (`by_host`) the one
    this host fits, else the one installed in the prefix (read-only commands look at what is there)."""
    from ..layout import lock_path
    from ..lock.lockfile import read_lock
    from ..profile.load import load_profile
    from .stamp import read_stamp
    from .variant_choice import choose_variant

    whole = load_profile(project, name)
    if whole.abstract:
        raise ProvisionError(
            f"profiles/{name}.yaml: {name} is abstract (only extended); apply a profile that extends it."
        )
    prefix = resolved(prefix or default_prefix(name))
    stamp = None if by_host or not whole.variants else read_stamp(prefix)
    installed = stamp.variant if stamp is not None and stamp.profile == name else None
    if whole.variants and host is None:
        host = this_host()  # asked only for a profile with variants: it runs nvidia-smi
    choice = choose_variant(whole, host, variant, installed)
    profile = choice.unit
    path = project.root / lock_path(profile.lock_name)
    return Target(
        name=name,
        prefix=prefix,
        platform=platform,
        lock=read_lock(path, str(project.relative(path)), rules),
        lock_path=path,
        profile=profile,
        brewfile=project.env_dir(name) / "Brewfile",
        env=dict(profile.env),
        project_root=project.root,
        editables=tuple(read_editables(list(profile.pypi.editable), project.root, f"profiles/{name}.yaml")),
        variant_reason=choice.reason,
        variant_forced=choice.forced,
    )


def given_as(flag: str, path: Path, prefix: Path | None) -> str:
    """`--lockfile PATH --prefix DIR` as a shell would need it typed (for advice lines)."""
    import shlex

    return f"{flag} {shlex.quote(str(path))}" + (f" --prefix {shlex.quote(str(prefix))}" if prefix else "")


def target_for_lockfile(
    path: Path, prefix: Path | None, platform: str, rules: Rules | None = None,
    categories: frozenset[str] = frozenset({MAIN}),
) -> Target:  # fmt: skip
    """A conda-lock.yml (any era) or an @EXPLICIT list written by anyone: no profile, no activation
    variables; only the `categories` asked for (conda-lock install's default: main)."""
    import shlex

    from ..lock.lockfile import read_lock

    given = given_as("--lockfile", path, prefix)
    given += "".join(f" --category {shlex.quote(c)}" for c in sorted(categories - {MAIN}))
    real = resolved(path)
    name = real.name.removesuffix(".yml").removesuffix(".txt").removesuffix(".lock")
    name = name.removesuffix(".conda-lock").removesuffix("conda-lock").strip(".-")
    name = name or real.parent.name
    lock = read_lock(path, rules=rules).in_categories(categories, str(path))
    if not lock.for_platform(platform):  # else an empty environment would be "exactly the lock"
        from ..errors import LockfileError

        has = ", ".join(p for p in lock.platforms if lock.for_platform(p)) or "none"
        raise LockfileError(str(path), f"no packages for {platform}, this machine (platforms with packages: {has})",
                            f"use a lock made for {platform}")  # fmt: skip
    origin = f"{path} (the environment is named after the lockfile or its folder)"
    if prefix is not None and not grammar.full(grammar.ENV_DIR_NAME, name):
        name = checked_name(resolved(prefix).name, f"--prefix {prefix}")
    prefix = prefix if prefix is not None else default_prefix(name, origin)
    return Target(name=checked_name(name, origin), prefix=resolved(prefix), platform=platform, lock=lock,
                  lock_path=path, project_root=real.parent, origin=given)  # fmt: skip
