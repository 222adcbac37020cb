"""Install exactly the locked wheels with uv: local verified files, hashes required, no resolution."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.utils import canonicalize_name

from ..lock.pypi_layer import uv_executable
from ..lock.records import LockedPackage
from ..runner import run


def env_python(prefix: Path) -> Path:
    return prefix / ("python.exe" if sys.platform == "win32" else "bin/python")


def create_venv(prefix: Path, python: str) -> None:
    """A venv at `prefix` with an interpreter of version `python` (host or uv-managed)."""
    run([uv_executable(), "venv", "--no-config", "--quiet", "--allow-existing", "--python", python, str(prefix)])


def install_wheels(prefix: Path, wheels: list[tuple[LockedPackage, Path]]) -> None:
    if wheels:
        lines = [f"{p.name} @ {local.as_uri()} --hash=sha256:{p.sha256}" for p, local in wheels]
        requirements = prefix / ".provision" / "pypi-requirements.txt"
        requirements.parent.mkdir(parents=True, exist_ok=True)
        requirements.write_text("\n".join(lines) + "\n")
        run([
            uv_executable(), "pip", "install", "--no-config", "--quiet", "--python", str(env_python(prefix)),
            "--no-deps", "--require-hashes", "--no-index", "-r", str(requirements),
        ])  # fmt: skip
    stale = sorted(installed_by_uv(prefix) - {canonicalize_name(p.name) for p, _ in wheels})
    if stale:
        run(
            [uv_executable(), "pip", "uninstall", "--no-config", "--quiet", "--python", str(env_python(prefix)), *stale]
        )


def installed_by_uv(prefix: Path) -> set[str]:
    """Distributions this layer installed earlier (conda's own Python packages are left alone)."""
    names: set[str] = set()
    for installer in prefix.glob("lib/python3*/site-packages/*.dist-info/INSTALLER"):
        if installer.read_text().strip() == "uv":
            dist = installer.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0]
            names.add(canonicalize_name(dist))
    return names
