"""Which wheel a target platform would install: its supported tags, best first."""

from __future__ import annotations

from packaging import tags
from packaging.utils import parse_wheel_filename

from ..platforms import TABLE
from ..profile.model import Profile

ARCH = {name: names.wheel_arch for name, names in TABLE.items()}
UV_ARCH = {name: names.uv_arch for name, names in TABLE.items()}


def _version_pair(text: str) -> tuple[int, int]:
    major, _, rest = text.partition(".")
    return int(major), int(rest.partition(".")[0] or 0)


def uv_python_platform(profile: Profile, platform: str) -> str:
    """The `--python-platform` triple uv resolves for (glibc or macOS minimum from `requires`)."""
    if platform.startswith("osx"):
        return f"{UV_ARCH[platform]}-apple-darwin"
    glibc = _version_pair(profile.requires.glibc or "2.17")
    return f"{UV_ARCH[platform]}-manylinux_{glibc[0]}_{max(glibc[1], 17)}"


def macos_target(profile: Profile) -> str:
    return profile.requires.macos or "11.0"


def platform_tags(profile: Profile, platform: str, python: str) -> list[tags.Tag]:
    arch = ARCH[platform]
    if platform.startswith("osx"):
        platforms = list(tags.mac_platforms(_version_pair(macos_target(profile)), arch))
    else:
        glibc_minor = max(_version_pair(profile.requires.glibc or "2.17")[1], 17)
        platforms = [f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 4, -1)]
        # PEP 600's legacy aliases: manylinux2014 = 2_17, manylinux2010 = 2_12, manylinux1 = 2_5
        platforms += [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}", f"linux_{arch}"]
    version = _version_pair(python)
    return [*tags.cpython_tags(version, platforms=platforms), *tags.compatible_tags(version, platforms=platforms)]


def best_wheel(file_names: list[str], supported: list[tags.Tag]) -> str | None:
    """The file among `file_names` whose best tag ranks highest for the target, or None."""
    rank = {tag: i for i, tag in enumerate(supported)}
    scored = []
    for name in file_names:
        _, _, _, wheel_tags = parse_wheel_filename(name)
        best = min((rank[t] for t in wheel_tags if t in rank), default=None)
        if best is not None:
            scored.append((best, name))
    return min(scored)[1] if scored else None
