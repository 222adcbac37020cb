"""`@EXPLICIT` lists, read as a lock of one platform.

Written by `conda list --explicit --md5`, `conda-lock render -k explicit`, `pixi workspace export
conda-explicit-spec` and `provision export --format explicit`: one package URL a line, its hash
after `#` (`<md5>`, `sha256:<hex>` or a bare sha256), the platform in a `# platform:` comment, and
conda-lock's PyPI entries as `# pip NAME @ URL#sha256=HEX` comments. Each line is checked here with
its line number; the result then goes through the same field validation as any conda-lock file.
"""

from __future__ import annotations

import re
from typing import Any

from .. import grammar
from ..errors import LockfileError
from .validate import Rules, validate_document

MARKER = "@EXPLICIT"
PLATFORM_LINE = re.compile(r"#\s*platform:\s*(\S+)\s*")
# conda-lock's PyPI entries: `# pip NAME @ URL#sha256=HEX`; one locked from git has its commit instead.
PIP_LINE = re.compile(r"#\s*pip\s+(?P<name>\S+)\s+@\s+(?P<url>[^\s#]+)(#(?P<hash>\S*))?\s*")
FIX = "export it again with `conda list --explicit --md5` (or `conda-lock render -k explicit`)"


def is_explicit(text: str) -> bool:
    """True when the first line that is not a comment is `@EXPLICIT` (how conda itself tells)."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped == MARKER
    return False


def explicit_document(text: str, where: str, rules: Rules) -> tuple[dict[str, Any], list[Any]]:
    """The metadata and validated packages of an explicit list, as `validate_document` returns them."""
    platform: str | None = None
    entries: list[dict[str, Any]] = []
    seen_marker = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        loc = f"line {number}"
        if grammar.control_character(line.replace("\t", " ")):
            raise LockfileError(where, "a line with a control character", FIX, loc)
        found = PLATFORM_LINE.fullmatch(line)
        if found:
            if platform is not None and platform != found.group(1):
                raise LockfileError(where, f"two `# platform:` lines ({platform}, {found.group(1)})",
                                    "keep the one the list was exported on", loc)  # fmt: skip
            platform = found.group(1)
            continue
        if seen_marker and re.match(r"#\s*pip\s", line):
            pip = PIP_LINE.fullmatch(line)
            if pip is None:
                raise LockfileError(where, "a `# pip` line that is not `# pip NAME @ URL#sha256=HEX`", FIX, loc)
            if not pip.group("hash") and not pip.group("url").startswith("git+"):
                raise LockfileError(where, f"{pip.group('name')} has no hash: provision installs only what it "
                                    "can check", FIX, loc)  # fmt: skip
            entries.append(_pip_entry(pip, where, loc))
            continue
        if not line or line.startswith("#"):
            continue
        if line == MARKER:
            seen_marker = True
            continue
        entries.append(_conda_entry(line, where, loc))
    conda_subdirs = {e["url"].rsplit("/", 2)[-2] for e in entries if e["manager"] == "conda"}
    platform = platform or _only_platform(conda_subdirs - {"noarch"}, where)
    if not grammar.full(grammar.CONDA_PLATFORM, platform):
        raise LockfileError(where, f"{grammar.printable(platform)[:40]!r} is not a conda platform like linux-64", FIX)
    foreign = sorted(conda_subdirs - {platform, "noarch"})
    if foreign:  # a package built for another platform would install and fail to run
        raise LockfileError(where, f"packages for {', '.join(foreign)} in a list for {platform}",
                            "export the list again on one platform")  # fmt: skip
    for entry in entries:
        entry["platform"] = platform
    channels: list[str] = []
    for entry in entries:
        channel = entry["url"].rsplit("/", 2)[0]
        if entry["manager"] == "conda" and channel not in channels:
            channels.append(channel)
    document = {
        "version": 1,
        "metadata": {"platforms": [platform], "channels": channels, "sources": [where], "content_hash": {}},
        "package": entries,
    }
    return validate_document(document, where, rules)


def _conda_entry(line: str, where: str, loc: str) -> dict[str, Any]:
    url, _, fragment = line.partition("#")
    if not grammar.full(grammar.URL, url):
        raise LockfileError(where, f"{grammar.printable(line[:80])!r} is not a package URL", FIX, loc)
    if "/../" in url or "/./" in url:  # the folder it names is not the channel and platform it seems to
        raise LockfileError(where, f"{grammar.printable(url[:120])!r} climbs out of its folder ('..')", FIX, loc)
    file_name = url.rsplit("/", 1)[-1]
    stem = file_name.removesuffix(".conda").removesuffix(".tar.bz2")
    parts = stem.rsplit("-", 2)
    if stem == file_name or len(parts) != 3:
        raise LockfileError(where, f"{file_name!r} is not a conda archive (NAME-VERSION-BUILD.conda)", FIX, loc)
    hashes: dict[str, str] = {}
    fragment = fragment.strip()
    if grammar.full(grammar.MD5, fragment):
        hashes["md5"] = fragment
    elif grammar.full(grammar.SHA256, fragment.removeprefix("sha256:")):
        hashes["sha256"] = fragment.removeprefix("sha256:")
    else:
        problem = "has no hash" if not fragment else f"has {fragment[:40]!r} where a hash belongs"
        raise LockfileError(where, f"{file_name} {problem}: provision installs only what it can check", FIX, loc)
    name, version, build = parts
    return {"name": name, "version": version, "build": build, "manager": "conda", "url": url, "hash": hashes,
            "dependencies": {}}  # fmt: skip


def _pip_entry(found: re.Match[str], where: str, loc: str) -> dict[str, Any]:
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    url = found.group("url")
    fragment = found.group("hash") or ""
    if not url.startswith("git+") and not grammar.full(grammar.SHA256, fragment.removeprefix("sha256=")):
        # conda-lock writes `#md5=None` where the index gave no hash: nothing to check the wheel against.
        problem = f"{found.group('name')} ({url.rsplit('/', 1)[-1]}) has no sha256 hash: nothing to check it against"
        raise LockfileError(where, problem, "lock it again where the index gives hashes", loc)
    if url.startswith("git+"):
        # A git entry has no file to name its version: the lock's own check (validate) pins the commit.
        return {"name": found.group("name"), "version": "0", "manager": "pip", "url": url, "hash": {},
                "dependencies": {}}  # fmt: skip
    file_name = url.rsplit("/", 1)[-1]
    try:
        version = (
            parse_wheel_filename(file_name)[1] if file_name.endswith(".whl") else parse_sdist_filename(file_name)[1]
        )
    except (InvalidWheelFilename, InvalidSdistFilename):
        raise LockfileError(where, f"{file_name!r} is not a wheel or sdist file name", FIX, loc) from None
    return {"name": found.group("name"), "version": str(version), "manager": "pip", "url": url,
            "hash": {"sha256": fragment.removeprefix("sha256=")}, "dependencies": {}}  # fmt: skip


def _only_platform(subdirs: set[str], where: str) -> str:
    if len(subdirs) == 1:
        return next(iter(subdirs))
    found = ", ".join(sorted(subdirs)) or "none"
    fix = "add a line `# platform: linux-64` (the platform it was exported on) above @EXPLICIT"
    raise LockfileError(where, f"no `# platform:` line, and the URLs name {found}", fix)
