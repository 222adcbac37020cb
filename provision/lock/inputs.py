"""What a lock depends on, per platform, and its hash: the basis of `lock --check`.

The hash covers the *request* (specs, channels, indexes, virtual packages), not the
solution, so checking freshness needs no solver and no network. The inputs themselves
are stored in the lock too, so a stale platform can say exactly what changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from typing import Any

from ..layout import BOOTSTRAP
from ..profile.load import virtual_packages
from ..profile.model import Profile

INPUTS_SCHEMA = 1  # bump when the meaning of the inputs changes: every lock becomes stale


def platform_inputs(profile: Profile, platform: str) -> dict[str, Any]:
    return {
        "schema": INPUTS_SCHEMA,
        "kind": profile.kind,
        "python": profile.python,
        "channels": list(profile.channels) if profile.kind == "conda" else [],
        "conda": sorted(profile.conda_for(platform)),
        "pypi": sorted(profile.pypi_for(platform)),
        "index_url": profile.pypi.index_url,
        "extra_index_urls": list(profile.pypi.extra_index_urls),
        "find_links": list(profile.pypi.find_links),
        **(
            {"indexes": dict(profile.pypi.indexes), "sources": dict(profile.pypi.sources)}
            if profile.pypi.sources
            else {}
        ),
        "virtual_packages": virtual_packages(profile, platform),
    }


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
