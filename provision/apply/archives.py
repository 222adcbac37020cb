"""A package's contents are untrusted: refuse an archive whose members would land outside the
prefix (an absolute path or a `..` component, a path through a symlink member, a hard link to a file
outside) before any installer opens it.

rattler and uv contain such members themselves, but one of them aborts the whole process on an
absolute member; checking first turns that into one line naming the package and the member.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..errors import ToolFailed


class UnsafeArchive(ToolFailed):
    pass


def check_archive(path: Path, package: str) -> None:
    """Raise UnsafeArchive naming the first member that escapes, or when the archive is unreadable."""
    try:
        links: set[str] = set()  # symlink members seen so far
        for member, kind, target in _members(path):
            if _escapes(member):
                raise UnsafeArchive(
                    f"{package} ({path.name}): member {member!r} would be written outside the environment; "
                    "the package was refused and nothing was installed."
                )
            # Only an archive with symlink members (a tar) can write through one: a wheel's thousands of
            # members are not split into their parents for nothing.
            through = next((str(f) for f in PurePosixPath(member).parents if str(f) in links), None) if links else None
            if through is not None or (kind == "hardlink" and target is not None and _escapes(target)):
                why = f"is written through the link {through!r}" if through else f"is a hard link to {target!r}"
                raise UnsafeArchive(
                    f"{package} ({path.name}): member {member!r} {why}, outside the environment; "
                    "the package was refused and nothing was installed."
                )
            if kind == "symlink":
                links.add(str(PurePosixPath(member)))
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, ValueError) as exc:
        raise UnsafeArchive(
            f"{package} ({path.name}): not a readable archive ({type(exc).__name__}); nothing was installed."
        ) from None


def _escapes(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")  # what PurePosixPath would make of it, without the objects
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts


def _tar(archive: tarfile.TarFile) -> Iterator[tuple[str, str, str | None]]:
    for member in archive:
        kind = "symlink" if member.issym() else "hardlink" if member.islnk() else "file"
        yield member.name, kind, member.linkname or None


def _members(path: Path) -> Iterator[tuple[str, str, str | None]]:
    """(name, "file" / "symlink" / "hardlink", link target) of each member. A symlink is only a link
    (conda packages carry absolute ones); what escapes is a member written through one, or a hard link
    to a file outside."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as archive:
            yield from ((name, "file", None) for name in archive.namelist())
    elif path.name.endswith(".tar.bz2"):
        with tarfile.open(path, mode="r|bz2") as archive:
            yield from _tar(archive)
    elif path.name.endswith(".conda"):
        # A .conda file is a zip of metadata.json plus two zstd-compressed tars (info-, pkg-).
        import zstandard

        with zipfile.ZipFile(path) as outer:
            for inner in outer.namelist():
                yield inner, "file", None
                if inner.endswith(".tar.zst"):
                    with (
                        outer.open(inner) as raw,
                        zstandard.ZstdDecompressor().stream_reader(raw) as plain,
                        tarfile.open(fileobj=plain, mode="r|") as archive,
                    ):
                        yield from _tar(archive)
    else:
        raise ValueError(f"unknown archive type {path.name}")
