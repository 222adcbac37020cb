"""A lockfile is untrusted input: every field is checked before any of it reaches a path, a file
name, a download or a requirements line.

`read_lock` (lockfile.py) parses strictly (no duplicate keys, no aliases, a size cap) and hands
the document here; what comes back is a LockData whose every package is safe to use, or a
LockfileError naming the file, the package and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import grammar
from ..errors import LockfileError
from .records import MAIN, LockedPackage

RELOCK = "re-create the lock with `provision lock` (or `conda-lock`)"


@dataclass(frozen=True)
class Rules:
    """What a lock may contain beyond the defaults: plain http is refused unless the user asks."""

    allow_insecure_http: bool = False


class _Refuse(Exception):
    def __init__(self, loc: str, problem: str, fix: str = RELOCK) -> None:
        self.loc, self.problem, self.fix = loc, problem, fix


def validate_document(document: Any, where: str, rules: Rules) -> tuple[dict[str, Any], list[LockedPackage]]:
    """The metadata mapping and the packages of a conda-lock v1 document, every field checked."""
    try:
        return _document(document, rules)
    except _Refuse as refusal:
        raise LockfileError(where, refusal.problem, refusal.fix, refusal.loc) from None


def _document(document: Any, rules: Rules) -> tuple[dict[str, Any], list[LockedPackage]]:
    if not isinstance(document, dict) or document.get("version") != 1:
        raise _Refuse("", "not a conda-lock version 1 file")
    meta = _mapping(document.get("metadata"), "metadata")
    platforms = _strings(meta.get("platforms"), "metadata.platforms")
    for index, platform in enumerate(platforms):
        _check(grammar.CONDA_PLATFORM, platform, f"metadata.platforms[{index}]", "a conda platform like linux-64")
    channels = meta.get("channels") or []
    if not isinstance(channels, list):
        raise _Refuse("metadata.channels", "must be a list")
    for index, channel in enumerate(channels):
        url = channel.get("url") if isinstance(channel, dict) else channel
        _check(grammar.CHANNEL, url, f"metadata.channels[{index}]", "a channel name or an https:// URL")
        _scheme(str(url), f"metadata.channels[{index}]", rules)
    sources = meta.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise _Refuse("metadata.sources", "must be a list of file names")
    for key in ("content_hash", "custom_metadata"):
        values = meta.get(key) or {}
        texts = isinstance(values, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
        if not texts:
            raise _Refuse(f"metadata.{key}", "must map text to text")
    raw_packages = document.get("package") or []
    if not isinstance(raw_packages, list):
        raise _Refuse("package", "must be a list of packages")
    packages: dict[tuple[str, str, str], LockedPackage] = {}
    for index, entry in enumerate(raw_packages):
        package = _package(entry, index, set(platforms), rules)
        ident = (package.platform, package.manager, _normal(package))
        first = packages.get(ident)
        if first is None:
            packages[ident] = package
        elif (first.url, first.sha256, first.version) != (package.url, package.sha256, package.version):
            # conda-lock writes one identical entry per category; two different ones are a conflict.
            where = f"package[{index}] ({package.name}, {package.platform})"
            raise _Refuse(where, "locked twice with different versions or files", "keep one entry per package")
        else:
            packages[ident] = replace(first, categories=first.categories | package.categories)
    return meta, list(packages.values())


def _normal(package: LockedPackage) -> str:
    name = package.name.lower()
    return name.replace("_", "-").replace(".", "-") if package.manager == "pip" else name


def _package(entry: Any, index: int, platforms: set[str], rules: Rules) -> LockedPackage:
    loc = f"package[{index}]"
    entry = _mapping(entry, loc)
    manager = entry.get("manager", "conda")
    if manager not in ("conda", "pip"):
        raise _Refuse(f"{loc}.manager", f"{_shown(manager)} is not a package manager provision installs",
                      "write conda or pip")  # fmt: skip
    name = entry.get("name")
    _check(grammar.CONDA_PACKAGE if manager == "conda" else grammar.PYPI_NAME, name, f"{loc}.name",
           "a conda package name" if manager == "conda" else "a PEP 503 project name")  # fmt: skip
    loc = f"{loc} ({name})"
    platform = entry.get("platform")
    if not isinstance(platform, str) or platform not in platforms:
        raise _Refuse(f"{loc}.platform", f"{_shown(platform)} is not one of metadata.platforms")
    version = entry.get("version")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)
    _check(grammar.CONDA_VERSION, version, f"{loc}.version", "a version like 1.26.4")
    if manager == "pip":
        _pep440(version, f"{loc}.version")
    build = entry.get("build")
    if build is not None:
        build = str(build) if isinstance(build, int) else build
        _check(grammar.CONDA_BUILD, build, f"{loc}.build", "a build string like py311h1234567_0")
    url = entry.get("url")
    hashes = _hashes(entry.get("hash"), f"{loc}.hash")
    sha256, md5 = hashes.get("sha256"), hashes.get("md5")
    if manager == "pip" and isinstance(url, str) and url.startswith("git+"):
        sha256 = _git_pin(url, sha256, f"{loc}.url", rules)  # the commit pins it; there is no artifact to hash
    else:
        _check(grammar.URL, url, f"{loc}.url", "an https:// or file:// URL")
        _scheme(url, f"{loc}.url", rules)
        file_name = url.rsplit("/", 1)[-1]
        archive = grammar.PYPI_ARCHIVE if manager == "pip" else grammar.CONDA_ARCHIVE
        if not grammar.full(grammar.ARTIFACT_FILE, file_name) or not archive.fullmatch(file_name):
            kinds = "a Python package file (.whl, sdist)" if manager == "pip" else "a conda archive (.conda, .tar.bz2)"
            raise _Refuse(f"{loc}.url", f"{_shown(file_name)} is not {kinds}")
        # Early conda-lock v1 files carry only md5 for conda packages; a wheel always has its sha256.
        if sha256 is not None or md5 is None or manager == "pip":
            _check(grammar.SHA256, sha256, f"{loc}.hash.sha256", "64 hexadecimal digits")
        if md5 is not None:
            _check(grammar.MD5, md5, f"{loc}.hash.md5", "32 hexadecimal digits")
    dependencies = entry.get("dependencies") or {}
    if not isinstance(dependencies, dict):
        raise _Refuse(f"{loc}.dependencies", "must map package names to version specs")
    deps: dict[str, str] = {}
    for dep, spec in dependencies.items():
        _check(grammar.CONDA_PACKAGE, dep, f"{loc}.dependencies", "a package name")
        spec = "" if spec is None else str(spec)
        _check(grammar.DEPENDENCY_SPEC, spec, f"{loc}.dependencies.{dep}", "one line of version spec")
        deps[dep] = spec
    return LockedPackage(
        name=name, version=version, manager=manager, platform=platform, url=url,
        sha256=str(sha256).lower() if sha256 else "", md5=md5.lower() if md5 else None, build=build, dependencies=deps,
        categories=_categories(entry, loc),
    )  # fmt: skip


def _git_pin(url: str, recorded: Any, loc: str, rules: Rules) -> str:
    """A git entry must name a full commit (conda-lock records the same commit as its `sha256`);
    anything else could move under the lock. The URL is shown whole: it is what the user must fix."""
    bad = grammar.control_character(url)
    if bad:
        raise _Refuse(loc, f"a git URL containing the control character {bad}")
    pin = grammar.GIT_PIN.fullmatch(url)
    if pin is None:
        raise _Refuse(loc, f"{url} is not pinned to a full commit (git+https://HOST/REPO@<40 hex digits>)",
                      "lock it again so the entry names the commit, or pin a release from an index")  # fmt: skip
    _scheme(pin.group("repo"), loc, rules)
    if recorded is not None and str(recorded).lower() != pin.group("commit"):
        problem = f"the commit in the URL and the recorded hash differ ({_shown(recorded)})"
        raise _Refuse(f"{loc} / hash.sha256", problem)
    return ""


def _hashes(value: Any, loc: str) -> dict[str, Any]:
    """`{md5: HEX, sha256: HEX}`, or the 2022 layout's single string `md5:HEX` / `sha256:HEX`."""
    if isinstance(value, str):
        kind, sep, digest = value.partition(":")
        if sep and kind in ("md5", "sha256"):
            return {kind: digest}
    return _mapping(value, loc)


def _categories(entry: dict[str, Any], loc: str) -> frozenset[str]:
    """conda-lock's `category: dev` (v1 files, one entry per category) or `categories: [...]`."""
    raw = entry.get("categories", entry.get("category", MAIN))
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        raise _Refuse(f"{loc}.category", "must be a category name or a list of them")
    for value in values:
        _check(grammar.CATEGORY, value, f"{loc}.category", "a category name like main or dev")
    return frozenset(values)


def _pep440(version: str, loc: str) -> None:
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except (InvalidVersion, ValueError):  # ValueError: a number past Python's digit limit
        raise _Refuse(loc, f"{_shown(version)} is not a PEP 440 version") from None


def _scheme(url: str, loc: str, rules: Rules) -> None:
    """The rules of every URL a lock holds (a channel's, a package's), past its grammar."""
    from urllib.parse import unquote, urlsplit

    if url.startswith("http://") and not rules.allow_insecure_http:
        raise _Refuse(loc, f"{_shown(url)} is plain http (anyone on the network can change it)",
                      "use https, or pass --allow-insecure-http if this network is trusted")  # fmt: skip
    # A '.' or '..' segment (or its %2e spelling) is resolved by the server or a path join: the file fetched is
    # not the one the URL seems to name, in the channel or folder it seems to be in. No tool writes one.
    dots = [part for part in (unquote(p) for p in urlsplit(url).path.split("/")) if part in (".", "..")]
    if dots:
        raise _Refuse(loc, f"{_shown(url)} has a {dots[0]!r} segment in its path",
                      f"write the URL without '.' and '..' segments, or {RELOCK}")  # fmt: skip


def _check(pattern: Any, value: Any, loc: str, expected: str) -> None:
    if not isinstance(value, str):
        raise _Refuse(loc, f"{_shown(value)} is not text", f"write {expected}")
    bad = grammar.control_character(value)
    if bad:
        raise _Refuse(loc, f"{_shown(value)} contains the control character {bad}", f"write {expected}")
    if not pattern.fullmatch(value):
        raise _Refuse(loc, f"{_shown(value)} is not {expected}")


def _mapping(value: Any, loc: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Refuse(loc, f"{_shown(value)} is not a mapping")
    return value


def _strings(value: Any, loc: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Refuse(loc, "must be a non-empty list")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
