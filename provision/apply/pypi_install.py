"""Install exactly the locked wheels with uv: local verified files, hashes required, no resolution."""

from __future__ import annotations

import sys
from pathlib import Path

from ..lock.pypi_layer import uv_executable
from ..lock.records import LockedPackage
from ..runner import run


def env_python(prefix: Path) -> Path:
    return prefix / ("python.exe" if sys.platform == "win32" else "bin/python")


def create_venv(prefix: Path, python: str) -> None:
    """A venv at `prefix` with an interpreter of version `python`: the one running provision when it is that
    version (uv then only checks it, a tenth of a second less than its search), else the one uv finds (host or
    uv-managed)."""
    running = ".".join(map(str, sys.version_info[:3]))
    if running == python or running.startswith(python + "."):
        python = getattr(sys, "_base_executable", None) or sys.executable  # the real interpreter, not a venv's
    run([uv_executable(), "venv", "--no-config", "--quiet", "--allow-existing", "--python", python, str(prefix)])


def install_wheels(
    prefix: Path, wheels: list[tuple[LockedPackage, Path]], reinstall: set[str], remove: set[str],
    git: tuple[LockedPackage, ...] = (),
) -> None:
    """Exactly the locked wheels from their verified local copies. `reinstall` names packages to put
    back even at the same version (another installer's copy, modified files); `remove` the
    distributions outside the lock that the plan found (as `uv sync` does). `git` entries of a foreign
    lock are built from exactly their locked commit (there is no artifact hash; the commit pins them)."""
    python = str(env_python(prefix))
    if wheels:
        lines = [f"{p.name} @ {local.as_uri()} --hash=sha256:{p.sha256}" for p, local in wheels]
        requirements = prefix / ".provision" / "pypi-requirements.txt"
        requirements.parent.mkdir(parents=True, exist_ok=True)
        requirements.write_text("\n".join(lines) + "\n")
        again = [arg for name in sorted(reinstall) for arg in ("--reinstall-package", name)]
        run([
            uv_executable(), "pip", "install", "--no-config", "--quiet", "--python", python,
            "--no-deps", "--require-hashes", "--no-index", *again, "-r", str(requirements),
        ])  # fmt: skip
    if git:
        again = [arg for p in git if p.name in reinstall for arg in ("--reinstall-package", p.name)]
        run([
            uv_executable(), "pip", "install", "--no-config", "--quiet", "--python", python, "--no-deps", *again,
            *(f"{p.name} @ {p.url}" for p in git),
        ])  # fmt: skip
    if remove:
        run([uv_executable(), "pip", "uninstall", "--no-config", "--quiet", "--python", python, *sorted(remove)])
