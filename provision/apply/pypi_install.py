"""Install exactly the locked wheels with uv: local verified files, hashes required, no resolution."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ToolFailed
from ..lock.pypi_layer import uv_executable
from ..lock.records import LockedPackage
from ..runner import run
from .wheel_files import differing_files, read_records


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
    git: tuple[LockedPackage, ...] = (), *, installing: frozenset[str] | set[str], python_version: str | None,
) -> list[str]:
    """Exactly the locked wheels from their verified local copies. `reinstall` names packages to put
    back even at the same version (another installer's copy, modified files); `remove` the
    distributions outside the lock that the plan found (as `uv sync` does). `git` entries of a foreign
    lock are built from exactly their locked commit (there is no artifact hash; the commit pins them).

    What uv installed (`installing`, the plan's names) is held to each verified wheel's RECORD (wheel_files.py, in
    the site-packages of `python_version`). Returns the packages installed again from their wheels past uv's cache
    because their files differed; raises if they still differ."""
    python = str(env_python(prefix))
    again_from_wheels: list[str] = []
    if wheels:
        lines = [f"{p.name} @ {local.as_uri()} --hash=sha256:{p.sha256}" for p, local in wheels]
        requirements = prefix / ".provision" / "pypi-requirements.txt"
        requirements.parent.mkdir(parents=True, exist_ok=True)
        requirements.write_text("\n".join(lines) + "\n")
        install = [*_uv_install(python), "--require-hashes", "--no-index"]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="provision-record-read") as reader:
            reading = reader.submit(read_records, wheels)  # meanwhile: uv's run is a wait here
            run([*install, *_again(reinstall), "-r", str(requirements)])
            records = reading.result()
        differing = differing_files(prefix, records, installing, python_version)
        if differing:
            # uv's cache held other files than the wheel: extracted again from the verified wheel, with a cache
            # of this command's own (--no-cache), and checked again.
            run([*install, "--no-cache", *_again(set(differing)), "-r", str(requirements)])
            still = differing_files(prefix, records, set(differing), python_version)
            if still:
                name, files = next(iter(sorted(still.items())))
                raise ToolFailed(
                    f"{name}: {files[0]}: not what the RECORD of its verified wheel says, even installed again from "
                    f"the wheel itself past uv's cache ({len(files)} file(s)); `provision status --files` shows each."
                )
            again_from_wheels = sorted(differing)
    if git:
        again = _again({p.name for p in git} & reinstall)
        run([*_uv_install(python), *again, *(f"{p.name} @ {p.url}" for p in git)])
    if remove:
        run([uv_executable(), "pip", "uninstall", "--no-config", "--quiet", "--python", python, *sorted(remove)])
    return again_from_wheels


def _uv_install(python: str) -> list[str]:
    # A link mode named, so that a UV_LINK_MODE=symlink in the user's environment cannot leave links into uv's cache
    # in the prefix (uv refuses it with the --no-cache of a second pass). clone: uv's default on macOS; where the
    # file system cannot clone, uv falls back to hard links, its default on Linux (read in uv's debug log).
    return [uv_executable(), "pip", "install", "--no-config", "--quiet", "--python", python, "--no-deps",
            "--link-mode", "clone"]  # fmt: skip


def _again(names: set[str]) -> list[str]:
    return [arg for name in sorted(names) for arg in ("--reinstall-package", name)]
