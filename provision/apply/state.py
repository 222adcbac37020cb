"""What a prefix really holds, read from the prefix itself (never inferred from the stamp).

conda's records are `conda-meta/<name>-<version>-<build>.json`; Python distributions are
`site-packages/<name>-<version>.dist-info` with an INSTALLER file naming who put them there. The
stamp keeps a fingerprint of both listings so that the common "nothing changed" case needs no JSON
parsing; any change to either listing makes the next comparison read everything again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

OURS = "uv"  # the PyPI layer installs with uv; a distribution another installer made is not the lock's


@dataclass(frozen=True)
class CondaRecord:
    name: str
    version: str
    build: str
    sha256: str | None
    record: Path  # conda-meta/<name>-<version>-<build>.json
    owned_dist_infos: frozenset[str] = frozenset()  # site-packages/*.dist-info folders this package ships


@dataclass(frozen=True)
class Distribution:
    name: str  # canonical (PEP 503)
    version: str
    installer: str
    dist_info: Path
    commit: str | None = None  # PEP 610 direct_url.json's vcs_info.commit_id, for a git install


@dataclass(frozen=True)
class InstalledState:
    exists: bool
    conda: dict[str, CondaRecord] = field(default_factory=dict)
    pypi: dict[str, Distribution] = field(default_factory=dict)
    python_version: str | None = None  # pyvenv.cfg's `version` (venv kind)

    @property
    def conda_owned_dist_infos(self) -> set[str]:
        return {name for record in self.conda.values() for name in record.owned_dist_infos}


def site_packages(prefix: Path) -> list[Path]:
    return sorted(prefix.glob("lib/python3*/site-packages"))


def read_state(prefix: Path) -> InstalledState:
    if not prefix.is_dir():
        return InstalledState(exists=False)
    conda = {}
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        record = _conda_record(path)
        if record is not None:
            conda[record.name] = record
    pypi = {}
    for folder in site_packages(prefix):
        for dist_info in sorted(folder.glob("*.dist-info")):
            dist = _distribution(dist_info)
            if dist is not None:
                pypi[dist.name] = dist
    return InstalledState(True, conda, pypi, _venv_python(prefix))


def _conda_record(path: Path) -> CondaRecord | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("name", "version", "build")):
        # An unreadable record is a package conda no longer knows: it shows as missing and is reinstalled.
        return None
    raw_files = data.get("files")
    files: list[Any] = raw_files if isinstance(raw_files, list) else []
    owned = frozenset(
        part for item in files if isinstance(item, str) for part in item.split("/") if part.endswith(".dist-info")
    )
    sha256 = data.get("sha256") if isinstance(data.get("sha256"), str) else None
    return CondaRecord(data["name"], data["version"], data["build"], sha256, path, owned)


def _distribution(dist_info: Path) -> Distribution | None:
    stem = dist_info.name.removesuffix(".dist-info")
    name, sep, version = stem.rpartition("-")
    if not sep:
        return None
    try:
        installer = (dist_info / "INSTALLER").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        installer = ""
    return Distribution(canonicalize_name(name), version, installer or "unknown", dist_info, _vcs_commit(dist_info))


def _vcs_commit(dist_info: Path) -> str | None:
    """The commit a VCS install came from (PEP 610), read capped; anything malformed is no commit."""
    path = dist_info / "direct_url.json"
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(64 * 1024))
    except (OSError, ValueError):
        return None
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    commit = vcs.get("commit_id") if isinstance(vcs, dict) else None
    return commit if isinstance(commit, str) else None


def _venv_python(prefix: Path) -> str | None:
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            return value.strip()
    return None
