"""Resolve a profile's PyPI layer for one platform with uv, pinning each wheel's URL and sha256."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import ToolFailed
from ..profile.model import Profile
from ..profile.names import CONDA_TO_PYPI
from ..runner import run
from .records import LockedPackage
from .wheel_tags import best_wheel, macos_target, platform_tags, uv_python_platform

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def conda_python_packages(conda: Iterable[LockedPackage]) -> dict[str, str]:
    """PyPI name -> version for the conda records that are Python distributions."""
    out: dict[str, str] = {}
    for record in conda:
        if record.name == "python" or not ({"python", "python_abi"} & set(record.dependencies)):
            continue
        try:
            Version(record.version)
        except InvalidVersion:
            continue
        out[canonicalize_name(CONDA_TO_PYPI.get(record.name, record.name))] = record.version
    return out


def uv_executable() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def resolve_pypi(
    profile: Profile,
    platform: str,
    python: str,
    provided: dict[str, str],
    project_root: Path,
    previous: Sequence[LockedPackage] = (),
    shared: dict[str, str] | None = None,
) -> list[LockedPackage]:
    """Wheels for `platform` and `python`; packages the conda layer `provided` are constrained
    to its versions and not locked a second time. `previous` versions are preferred; `shared` versions
    (a solve group's) bind the packages the resolution pulls in."""
    requirements = profile.pypi_for(platform)
    if not requirements:
        return []
    with tempfile.TemporaryDirectory(prefix="provision-uv-") as tmp:
        folder = Path(tmp)
        source = _resolution_input(folder, profile, requirements)
        # uv prefers the versions already in its output file, so the previous lock goes there.
        if previous:
            (folder / "pylock.toml").write_text(_preferences(previous))
        pins = {**(shared or {}), **provided}
        (folder / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        # The resolution itself; the lock's pass and the dependency-edge pass add their output to it.
        resolution = [
            uv_executable(), "pip", "compile", str(source),
            "--constraint", str(folder / "constraints.txt"),
            "--python-platform", uv_python_platform(profile, platform),
            "--python-version", python,
            "--only-binary", ":all:",
            "--no-header", "--quiet", "--no-config",
            # The target Python is only a marker for resolving: never look for or download that interpreter
            # (uv does for an exact patch version, and where GitHub is unreachable it waits ~10 s).
            "--no-python-downloads",
        ]  # fmt: skip
        if profile.pypi.index_url:
            resolution += ["--index-url", profile.pypi.index_url]
        for url in profile.pypi.extra_index_urls:
            resolution += ["--extra-index-url", url]
        for link in profile.pypi.find_links:
            resolution += ["--find-links", link if "://" in link else str((project_root / link).resolve())]
        env = dict(os.environ)
        if platform.startswith("osx"):
            env["MACOSX_DEPLOYMENT_TARGET"] = macos_target(profile)
        argv = [*resolution, "--format", "pylock.toml", "--output-file", str(folder / "pylock.toml")]
        result = run(argv, env=env, check=False)
        if result.returncode != 0:
            reason = " / ".join(line.strip() for line in result.stderr.splitlines() if line.strip())[:600]
            raise ToolFailed(
                f"profiles/{profile.name}.yaml: pypi.packages cannot be resolved for {platform} (Python {python}): "
                f"{reason}"
            )
        document = tomllib.loads((folder / "pylock.toml").read_text())
        edges = _dependency_edges(resolution, folder, env, document)
    supported = platform_tags(profile, platform, python)
    locked = [
        _locked(p, platform, supported, profile)
        for p in document.get("packages", [])
        if canonicalize_name(p["name"]) not in provided
    ]
    return [replace(p, dependencies={d: "" for d in sorted(edges.get(p.name, ()))}) for p in locked]


def _dependency_edges(
    resolution: list[str], folder: Path, env: dict[str, str], document: dict[str, Any]
) -> dict[str, set[str]]:
    """Who depends on whom, for `provision tree`: the same resolution again, offline from uv's cache
    and pinned to the solution, written as requirements annotated with `# via`. Best effort: a lock
    without edges is still a whole lock, so a failure here records none."""
    pins = folder / "solution.txt"
    pins.write_text("".join(f"{p['name']}=={p['version']}\n" for p in document.get("packages", [])))
    again = [*resolution, "--format", "requirements.txt", "--output-file", str(folder / "annotated.txt"),
             "--offline", "--constraint", str(pins), "--annotation-style", "line"]  # fmt: skip
    if run(again, env=env, check=False).returncode != 0:
        return {}
    edges: dict[str, set[str]] = {}
    for line in (folder / "annotated.txt").read_text().splitlines():
        name, _, via = line.partition("# via ")
        child = canonicalize_name(name.split("==")[0].strip()) if "==" in name else None
        for parent in via.split(","):
            parent = parent.strip()
            if child and parent and not parent.startswith(("-r ", "-c ", "provision-lock-input")):
                edges.setdefault(str(canonicalize_name(parent)), set()).add(str(child))
    return edges


def _resolution_input(folder: Path, profile: Profile, requirements: list[str]) -> Path:
    """requirements.in; or, when some packages come only from a named index, a pyproject.toml with
    uv's explicit indexes and sources (`uv pip compile` honours them for a pyproject input): those
    packages come from their index, everything else from the usual ones."""
    if not profile.pypi.sources:
        (folder / "requirements.in").write_text("\n".join(requirements) + "\n")
        return folder / "requirements.in"
    import tomlkit

    document = tomlkit.document()
    document["project"] = {"name": "provision-lock-input", "version": "0", "dependencies": requirements}
    indexes = tomlkit.aot()
    for name, url in profile.pypi.indexes.items():
        indexes.append(tomlkit.item({"name": name, "url": url, "explicit": True}))
    sources = {package: {"index": index} for package, index in profile.pypi.sources.items()}
    document["tool"] = {"uv": {"sources": sources, "index": indexes}}
    (folder / "pyproject.toml").write_text(tomlkit.dumps(document))
    return folder / "pyproject.toml"


def _preferences(previous: Sequence[LockedPackage]) -> str:
    from .pylock import pylock_text

    return pylock_text(previous)


def _locked(package: dict[str, Any], platform: str, supported: list[Any], profile: Profile) -> LockedPackage:
    wheels = {w["url"].rsplit("/", 1)[-1]: w for w in package.get("wheels", [])}
    chosen = best_wheel(list(wheels), supported)
    if chosen is None:
        raise ToolFailed(
            f"profiles/{profile.name}.yaml: {package['name']} {package['version']} has no wheel for {platform}; "
            "pin a version that publishes one, or drop the platform."
        )
    wheel = wheels[chosen]
    return LockedPackage(
        name=canonicalize_name(package["name"]),
        version=str(package["version"]),
        manager="pip",
        platform=platform,
        url=wheel["url"] if "url" in wheel else wheel["path"],
        sha256=wheel["hashes"]["sha256"],
        size=wheel.get("size"),
    )
