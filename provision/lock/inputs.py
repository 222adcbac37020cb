"""What a lock depends on, per platform, and its hash: the basis of `lock --check`.

The hash covers the *request* (specs, channels, indexes, virtual packages), not the
solution, so checking freshness needs no solver and no network. The inputs themselves
are stored in the lock too, so a stale platform can say exactly what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..layout import BOOTSTRAP
from ..profile.load import virtual_packages
from ..profile.model import Profile

if TYPE_CHECKING:
    from .lockfile import LockData

INPUTS_SCHEMA = 1  # bump when the meaning of the inputs changes: every lock becomes stale


@dataclass(frozen=True)
class LockRequest:
    """What one platform's lock is solved from: the specs, channels, indexes and virtual packages. It hashes
    itself (conda-lock's `content_hash`), is recorded whole in the lock (`as_json`), and says how it differs
    from a recorded one (`changes_since`), so `lock --check` needs no solver."""

    kind: str
    python: str | None
    channels: tuple[str, ...]
    conda: tuple[str, ...]  # sorted
    pypi: tuple[str, ...]  # sorted
    index_url: str | None
    extra_index_urls: tuple[str, ...]
    find_links: tuple[str, ...]
    indexes: dict[str, str] | None  # named indexes and the sources that pin packages to them, when any
    sources: dict[str, str] | None
    virtual_packages: dict[str, str]
    schema: int = INPUTS_SCHEMA

    def as_json(self) -> dict[str, Any]:
        """The recorded form; its keys and values are what every existing lock's hash was computed from."""
        out: dict[str, Any] = {
            "schema": self.schema, "kind": self.kind, "python": self.python, "channels": list(self.channels),
            "conda": list(self.conda), "pypi": list(self.pypi), "index_url": self.index_url,
            "extra_index_urls": list(self.extra_index_urls), "find_links": list(self.find_links),
            "virtual_packages": dict(self.virtual_packages),
        }  # fmt: skip
        if self.sources:
            out.update(indexes=dict(self.indexes or {}), sources=dict(self.sources))
        return out

    def digest(self) -> str:
        return inputs_hash(self.as_json())

    def answered_by(self, lock: LockData, platform: str) -> bool:
        """The lock was solved for exactly this request on `platform` (its recorded hash is this one's): the
        freshness rule of `lock --check`, `check`, preflight and `lock`'s choice of what to solve."""
        return lock.content_hash.get(platform) == self.digest()

    def changes_since(self, recorded: dict[str, Any]) -> str:
        """'conda: +scipy, -numpy >=2.0; python: 3.11 -> 3.12' against what a lock recorded (untrusted: any JSON)."""
        return describe_change(recorded, self.as_json())


def platform_inputs(profile: Profile, platform: str) -> LockRequest:
    sources = dict(profile.pypi.sources)
    return LockRequest(
        kind=profile.kind, python=profile.python,
        channels=tuple(profile.channels) if profile.kind == "conda" else (),
        conda=tuple(sorted(profile.conda_for(platform))), pypi=tuple(sorted(profile.pypi_for(platform))),
        index_url=profile.pypi.index_url, extra_index_urls=tuple(profile.pypi.extra_index_urls),
        find_links=tuple(profile.pypi.find_links),
        indexes=dict(profile.pypi.indexes) if sources else None, sources=sources or None,
        virtual_packages=virtual_packages(profile, platform),
    )  # fmt: skip


def inputs_hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def describe_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """'conda: +scipy, -numpy >=2.0; python: 3.11 -> 3.12' from two input dicts."""
    parts = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, list) and isinstance(after, list):
            added = [f"+{x}" for x in after if x not in before]
            removed = [f"-{x}" for x in before if x not in after]
            parts.append(f"{key}: {', '.join(added + removed) or 'reordered'}")
        else:
            parts.append(f"{key}: {before} -> {after}")
    return "; ".join(parts) or "inputs changed"


def source_path(profile_name: str) -> PurePosixPath:
    """The environment.yml, relative to the lock's folder (conda-lock's `sources` convention)."""
    if profile_name == BOOTSTRAP:
        return PurePosixPath("envs", BOOTSTRAP, "environment.yml")
    return PurePosixPath("environment.yml")
