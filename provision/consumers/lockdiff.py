"""What a lock change means, per platform and layer: added, removed, upgraded, downgraded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from ..lock.lockfile import LockData


@dataclass
class PlatformDiff:
    platform: str
    added: list[tuple[str, str, str]] = field(default_factory=list)  # (manager, name, version)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    upgraded: list[tuple[str, str, str, str]] = field(default_factory=list)  # (manager, name, old, new)
    downgraded: list[tuple[str, str, str, str]] = field(default_factory=list)
    rebuilt: list[tuple[str, str, str]] = field(default_factory=list)  # same version, other artifact

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.upgraded or self.downgraded or self.rebuilt)


def _newer(old: str, new: str) -> bool:
    try:
        return Version(new) > Version(old)
    except InvalidVersion:  # conda versions that PEP 440 cannot read: compare as conda does
        from rattler import Version as CondaVersion

        return bool(CondaVersion(new) > CondaVersion(old))


def diff_locks(old: LockData | None, new: LockData) -> list[PlatformDiff]:
    platforms = sorted(set(new.platforms) | set(old.platforms if old else []))
    out = []
    for platform in platforms:
        before = {(p.manager, p.name): p for p in (old.for_platform(platform) if old else [])}
        after = {(p.manager, p.name): p for p in new.for_platform(platform)}
        result = PlatformDiff(platform)
        for key in sorted(after.keys() - before.keys()):
            result.added.append((*key, after[key].version))
        for key in sorted(before.keys() - after.keys()):
            result.removed.append((*key, before[key].version))
        for key in sorted(before.keys() & after.keys()):
            a, b = before[key], after[key]
            if a.version != b.version:
                bucket = result.upgraded if _newer(a.version, b.version) else result.downgraded
                bucket.append((*key, a.version, b.version))
            elif a.sha256 != b.sha256:
                result.rebuilt.append((*key, b.version))
        out.append(result)
    return out


def as_markdown(title: str, diffs: list[PlatformDiff]) -> str:
    lines = [f"### {title}", ""]
    if all(d.empty for d in diffs):
        return "\n".join([*lines, "No package changes.", ""])
    for d in diffs:
        if d.empty:
            continue
        counts = (f"{len(d.added)} added, {len(d.removed)} removed, {len(d.upgraded)} upgraded, "
                  f"{len(d.downgraded)} downgraded")  # fmt: skip
        lines += [
            f"**{d.platform}**: {counts}",
            "",
            "| change | layer | package | from | to |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| added | {m} | {n} | | {v} |" for m, n, v in d.added]
        lines += [f"| removed | {m} | {n} | {v} | |" for m, n, v in d.removed]
        lines += [f"| upgraded | {m} | {n} | {a} | {b} |" for m, n, a, b in d.upgraded]
        lines += [f"| **downgraded** | {m} | {n} | {a} | {b} |" for m, n, a, b in d.downgraded]
        lines += [f"| rebuilt | {m} | {n} | {v} | {v} (new build) |" for m, n, v in d.rebuilt]
        lines.append("")
    return "\n".join(lines)


def as_json(diffs: list[PlatformDiff]) -> list[dict[str, Any]]:
    return [asdict(d) for d in diffs]
