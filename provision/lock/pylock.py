"""PEP 751 `pylock.toml` text, written with tomlkit (one writer for the export and for the uv
preferences file that keeps a re-lock's versions)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from ..lock.records import LockedPackage


def pylock_text(packages: Iterable[LockedPackage], requires_python: str | None = None) -> str:
    import tomlkit

    document = tomlkit.document()
    document["lock-version"] = "1.0"
    document["created-by"] = "provision"
    if requires_python:
        document["requires-python"] = requires_python
    entries = tomlkit.aot()
    for package in sorted(packages, key=lambda p: p.name):
        wheel = tomlkit.inline_table()
        file_name = PurePosixPath(package.url).name
        wheel.update({"name": file_name, "url": package.url, "hashes": {"sha256": package.sha256}})
        entry = tomlkit.table()
        entry.update({"name": package.name, "version": package.version})
        entry["wheels"] = [wheel]
        entries.append(entry)
    document["packages"] = entries
    return tomlkit.dumps(document)
