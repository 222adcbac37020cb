"""Offline packs: one archive with a platform's lock, every locked artifact and the profile's
settings, so `provision apply --pack FILE` installs where no channel or index can be reached; and,
from bootstrap.py, provision itself, so that `python3 FILE apply` works where provision is not installed.

Every artifact is checked against the lock as it is packed, and again as it is installed (the
pack is as untrusted as any cache). Opening a pack accepts only the members a pack can have, so
a hostile archive cannot write outside its folder.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import grammar, pack_runner
from .apply.fetch import cache_key, fetch_url, fetch_verified, staging_area
from .apply.target import Target
from .bootstrap import Bootstrap
from .errors import LockfileError
from .git_wheels import build_git_wheel
from .lock.mirrors import Mirrors
from .lock.records import LockedPackage
from .pack_runner import CODE, MANIFEST, RUNNER, WHEELS

PACK_SCHEMA = 1
LOCK_MEMBER = "conda-lock.yml"
SETTINGS_MEMBER = "pack.json"


@dataclass(frozen=True)
class PackSummary:
    path: Path
    packages: int
    bytes: int


def write_pack(
    target: Target, mirrors: Mirrors, cache: Path, output: Path, say: Callable[[str], None],
    bootstrap: Bootstrap | None = None,
) -> PackSummary:  # fmt: skip
    """Pack `target`'s platform: the lock, each artifact (verified) and the settings apply needs;
    with a `bootstrap`, also provision itself, so that `python3 PACK apply` runs on a bare node."""
    packages = target.packages
    if any(p.manager == "conda" for p in packages):
        mirrors.require(target.lock.channels)
    profile = target.profile.model_dump(mode="json") if target.profile is not None else None
    settings = {"schema": PACK_SCHEMA, "name": target.name, "platform": target.platform, "profile": profile,
                "variant": target.variant}  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(fd)
    try:
        with staging_area(cache / "artifacts") as staging, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(SETTINGS_MEMBER, json.dumps(settings, indent=1, sort_keys=True))
            # Always: without a bootstrap, `python3 PACK` still says in one line how to apply it.
            archive.write(pack_runner.__file__, RUNNER)
            built: dict[str, LockedPackage] = {}  # git URL -> the entry of the wheel built from it
            for index, package in enumerate(packages, 1):
                if package.git_commit is not None:
                    say(f"pack {index}/{len(packages)}: {package.name} built from git at {package.git_commit[:12]}")
                    entry, local = build_git_wheel(package, staging / "built")
                    built[package.url] = entry
                    archive.write(local, f"artifacts/{cache_key(entry)}/{entry.file_name}")
                    continue
                say(f"pack {index}/{len(packages)}: {package.file_name}")
                source = fetch_url(package, target.lock.channels, mirrors)
                local = fetch_verified(package, source, cache / "artifacts", staging)
                archive.write(local, f"artifacts/{cache_key(package)}/{package.file_name}")
            _write_lock_member(archive, target, built, staging)
            if bootstrap is not None:
                _write_bootstrap(archive, bootstrap, mirrors, cache, staging, say)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return PackSummary(output, len(packages), output.stat().st_size)


def _write_lock_member(
    archive: zipfile.ZipFile, target: Target, built: dict[str, LockedPackage], staging: Path
) -> None:
    """The lock as given; with git entries, the lock whose entries are the wheels built from them."""
    if not built:
        archive.write(target.lock_path, LOCK_MEMBER)
        return
    from dataclasses import replace

    from .lock.lockfile import write_lock

    packages = [built.get(p.url, p) for p in target.lock.packages if p.platform == target.platform]
    lock = replace(target.lock, platforms=[target.platform], packages=packages)
    path = staging / "packed-lock" / LOCK_MEMBER
    write_lock(path, lock, f"# Packed by provision from {target.lock_path.name}: git entries built into wheels.")
    archive.write(path, LOCK_MEMBER)


def _write_bootstrap(
    archive: zipfile.ZipFile, bootstrap: Bootstrap, mirrors: Mirrors, cache: Path, staging: Path,
    say: Callable[[str], None],
) -> None:  # fmt: skip
    say(f"pack provision itself: {len(bootstrap.files)} wheels for Python {', '.join(bootstrap.pythons)} and its code")
    archive.writestr(MANIFEST, json.dumps(bootstrap.manifest(), indent=1, sort_keys=True))
    for wheel in bootstrap.files:
        local = fetch_verified(wheel, fetch_url(wheel, [], mirrors), cache / "artifacts", staging)
        archive.write(local, WHEELS + wheel.file_name)
    for code in bootstrap.code:
        archive.write(code.source, CODE + code.relative)


@dataclass(frozen=True)
class OpenedPack:
    folder: Path  # where the pack was unpacked (private, removed by the caller)
    lock: Path
    settings: dict[str, Any]

    @property
    def artifacts(self) -> Path:
        return self.folder / "artifacts"


def open_pack(path: Path, folder: Path) -> OpenedPack:
    """Unpack what apply reads from `path` (settings, lock, artifacts) into `folder`, after checking
    every member name; the bootstrap members stay packed (only `python3 PACK` reads them)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LockfileError(
            str(path), f"not a provision pack ({type(exc).__name__})", "make it with `provision pack`"
        ) from None
    with archive:
        for name in archive.namelist():
            if not _allowed(name):
                raise LockfileError(
                    str(path), f"unexpected member {name!r}", "make the pack again with `provision pack`"
                )
        archive.extractall(folder, [n for n in archive.namelist() if not _bootstrap_member(n)])
    try:
        settings = json.loads((folder / SETTINGS_MEMBER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LockfileError(
            str(path), f"no readable {SETTINGS_MEMBER} ({type(exc).__name__})", "make it again"
        ) from None
    if not isinstance(settings, dict) or settings.get("schema") != PACK_SCHEMA:
        raise LockfileError(str(path), f"not a schema-{PACK_SCHEMA} pack", "make it with this provision version")
    return OpenedPack(folder, folder / LOCK_MEMBER, settings)


def _bootstrap_member(name: str) -> bool:
    return name in (RUNNER, MANIFEST) or name.startswith((WHEELS, CODE))


def _allowed(name: str) -> bool:
    if name in (SETTINGS_MEMBER, LOCK_MEMBER, RUNNER, MANIFEST):
        return True
    if name.startswith(WHEELS):
        return grammar.full(grammar.ARTIFACT_FILE, name[len(WHEELS) :])
    if name.startswith(CODE):
        parts = name[len(CODE) :].split("/")
        return parts[0] == "provision" and all(grammar.full(grammar.CODE_PART, part) for part in parts)
    parts = name.split("/")
    return (
        len(parts) == 3
        and parts[0] == "artifacts"
        and (
            grammar.full(grammar.SHA256, parts[1])
            or (parts[1].startswith("md5-") and grammar.full(grammar.MD5, parts[1][4:]))
        )
        and grammar.full(grammar.ARTIFACT_FILE, parts[2])
    )


def target_for_pack(opened: OpenedPack, pack: Path, prefix: Path | None, platform: str) -> Target:
    """The pack's target: its profile (validated as strictly as a profile file) or a lock-only one,
    installing from the pack's artifacts and nothing else."""
    from dataclasses import replace

    from pydantic import ValidationError

    from .apply.prefixes import default_prefix, resolved
    from .apply.target import given_as, target_for_lockfile
    from .model import Profile

    base = target_for_lockfile(
        opened.lock, prefix or default_prefix(str(opened.settings.get("name") or "pack")), platform
    )
    base = replace(base, origin=given_as("--pack", pack, prefix))
    raw = opened.settings.get("profile")
    if raw is None:
        return replace(base, offline=opened.artifacts)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise LockfileError(
            str(pack), "pack.json holds an invalid profile", "make the pack again", f"profile.{where}"
        ) from None
    variant = opened.settings.get("variant")
    if variant is not None:
        if not grammar.full(grammar.VARIANT_NAME, variant):
            raise LockfileError(str(pack), "pack.json names an invalid variant", "make the pack again", "variant")
        profile._variant = variant
    return replace(
        base,
        name=profile.name,
        prefix=resolved(prefix or default_prefix(profile.name)),
        profile=profile,
        env=dict(profile.env),
        offline=opened.artifacts,
    )
