"""Offline packs: one archive with a platform's lock, every locked artifact and the profile's
settings, so `provision apply --pack FILE` installs where no channel or index can be reached; and,
from bootstrap.py, provision itself, so that `python3 FILE apply` works where provision is not installed.

Every artifact is checked against the lock as it is packed, and again as it is installed (the
pack is as untrusted as any cache). Beside the pack go its sha256 (PACK.sha256, as `sha256sum`
writes it) and, with a key, its OpenSSH signature (PACK.sig): what checks a pack from outside.
Opening a pack checks those first when given, bounds the archive, accepts only the members a pack
can have (so a hostile archive cannot write outside its folder) and unpacks it into a private
folder that is removed when the command ends (the rules themselves are in pack_runner.py, which
the pack's own runner shares).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import grammar
from ..apply.fetch import cache_key, fetch_url, fetch_verified, staging_area
from ..apply.target import Target
from ..errors import ExitCode, LocatedError, LockfileError
from ..lock.mirrors import Mirrors
from ..lock.records import LockedPackage
from . import pack_runner
from .bootstrap import Bootstrap
from .git_wheels import build_git_wheel
from .pack_runner import CODE, MANIFEST, RUNNER, WHEELS, OutsideChecks, Refused

PACK_SCHEMA = 1
LOCK_MEMBER = "conda-lock.yml"
SETTINGS_MEMBER = "pack.json"


@dataclass(frozen=True)
class PackSummary:
    path: Path
    packages: int
    bytes: int
    sha256: str  # also in checksum_file(path)


def checksum_file(pack: Path) -> Path:
    return pack.with_name(pack.name + ".sha256")


def signature_file(pack: Path) -> Path:
    return pack.with_name(pack.name + ".sig")  # where `ssh-keygen -Y sign` writes it


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
    signature_file(output).unlink(missing_ok=True)  # it signed the pack this one replaced
    sha256 = _write_checksum(output)
    return PackSummary(output, len(packages), output.stat().st_size, sha256)


def _write_checksum(pack: Path) -> str:
    """PACK.sha256 in `sha256sum`'s format (HEX, two spaces, the file's name), so `sha256sum -c` reads it."""
    digest = hashlib.sha256()
    with open(pack, "rb") as file:
        while chunk := file.read(pack_runner.CHUNK):
            digest.update(chunk)
    target = checksum_file(pack)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(f"{digest.hexdigest()}  {pack.name}\n", encoding="utf-8")
    os.replace(tmp, target)
    return digest.hexdigest()


def sign_pack(pack: Path, key: Path) -> Path:
    """PACK.sig, made by `ssh-keygen -Y sign` with `key` (a private key, or a public one whose private
    half is in ssh-agent) for provision's namespace; `--allowed-signers` checks it."""
    from ..runner import run

    signature_file(pack).unlink(missing_ok=True)  # ssh-keygen would ask before overwriting one
    run(["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", pack_runner.SIGNATURE_NAMESPACE, str(pack)])
    return signature_file(pack)


def _write_lock_member(
    archive: zipfile.ZipFile, target: Target, built: dict[str, LockedPackage], staging: Path
) -> None:
    """The lock as given; with git entries, the lock whose entries are the wheels built from them."""
    if not built:
        archive.write(target.lock_path, LOCK_MEMBER)
        return
    from dataclasses import replace

    from ..lock.lockfile import write_lock

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
    folder: Path  # where the pack was unpacked (private, removed when open_pack's context ends)
    lock: Path
    settings: dict[str, Any]

    @property
    def artifacts(self) -> Path:
        return self.folder / "artifacts"


class PackRefused(LocatedError):
    """A check of the pack failed (outside checksum, signature, bounds, a member's hash): nothing of it is used."""

    def __init__(self, path: Path, refused: Refused) -> None:
        super().__init__(str(path), str(refused))
        self.exit_code = ExitCode(refused.code)


@contextmanager
def open_pack(path: Path, checks: OutsideChecks, note: Callable[[str], None]) -> Iterator[OpenedPack]:
    """`path` checked from outside (`checks`, else `note` says that none was given) and bounded, then
    what apply reads (settings, lock, artifacts, each artifact's hash checked as it is written)
    unpacked into a private folder that lives as long as this context; the bootstrap members stay
    packed (only `python3 PACK` reads them)."""
    if not checks.given:
        note(f"{path}: {pack_runner.NO_OUTSIDE_CHECK}")
    with ExitStack() as stack:
        try:
            raw = stack.enter_context(open(path, "rb", buffering=0))  # unbuffered: ssh-keygen reads this fd too
            archive = stack.enter_context(pack_runner.checked_archive(raw, path, checks))
            _check_names(path, archive)
            folder = stack.enter_context(pack_runner.private_folder("provision-pack-"))
            _unpack(archive, folder)
        except Refused as refused:
            raise PackRefused(path, refused) from None
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise LockfileError(str(path), f"cannot open or unpack it ({why})", "") from None
        archive.close()  # what apply reads is unpacked; the pack is not read again
        raw.close()
        yield OpenedPack(folder, folder / LOCK_MEMBER, _settings(path, folder))


def _check_names(path: Path, archive: zipfile.ZipFile) -> None:
    for name in archive.namelist():
        if not _allowed(name):
            raise LockfileError(str(path), f"unexpected member {name!r}", "make the pack again with `provision pack`")


def _unpack(archive: zipfile.ZipFile, folder: Path) -> None:
    for info in archive.infolist():
        if _bootstrap_member(info.filename):
            continue
        dest = folder / info.filename  # a name _allowed passed: no absolute path, no `..`
        dest.parent.mkdir(parents=True, exist_ok=True)
        pack_runner.stream_member(archive, info, dest, _named_hash(info.filename))


def _named_hash(name: str) -> tuple[str, str] | None:
    """(algorithm, hex) of an artifact, from its folder's name (artifacts/KEY/FILE, KEY as cache_key writes it)."""
    parts = name.split("/")
    if parts[0] != "artifacts":
        return None
    return ("md5", parts[1][4:]) if parts[1].startswith("md5-") else ("sha256", parts[1])


def _settings(path: Path, folder: Path) -> dict[str, Any]:
    file = folder / SETTINGS_MEMBER
    try:
        if file.stat().st_size > pack_runner.SMALL_MEMBER_MAX:
            raise ValueError("too large")
        settings = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested past the parser's depth
        raise LockfileError(
            str(path), f"no readable {SETTINGS_MEMBER} ({type(exc).__name__})", "make it again"
        ) from None
    if not isinstance(settings, dict) or settings.get("schema") != PACK_SCHEMA:
        raise LockfileError(str(path), f"not a schema-{PACK_SCHEMA} pack", "make it with this provision version")
    return settings


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

    from ..apply.prefixes import default_prefix, resolved
    from ..apply.target import given_as, target_for_lockfile
    from ..profile.model import Profile

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
