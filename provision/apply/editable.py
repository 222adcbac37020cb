"""The team's own code: local projects installed in editable mode after the locked layers.

What is locked and what is not: the project's folder is a working tree, so neither its code nor
its build backend is in the lock. Its dependencies are expected in the profile's pypi.packages
(locked like any other); it is installed with `--no-deps`, so nothing unlocked comes in with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from .. import grammar
from ..errors import LocatedError
from ..lock.pypi_layer import uv_executable
from ..runner import run


@dataclass(frozen=True)
class Editable:
    folder: Path
    name: str  # canonical distribution name, from the project's pyproject.toml


def read_editables(entries: list[str], project_root: Path, profile_file: str) -> list[Editable]:
    """Each `pypi.editable` entry as a folder with a pyproject.toml naming the project."""
    from ..files import NotRegularFile, TooLarge, read_capped
    from ..lock.pypi_layer import tomllib

    out = []
    root = project_root.resolve()
    for index, entry in enumerate(entries):
        folder = (root / entry).resolve()
        where = f"pypi.editable[{index}]"
        # uv runs the project's build backend, which writes into its folder: a teammate's profile may
        # only name folders of this project, never one of the user's elsewhere.
        if folder != root and root not in folder.parents:
            raise LocatedError(profile_file, f"{entry!r} is outside the project ({root})",
                               "list a folder inside the project (clone other code into it)", loc=where)  # fmt: skip
        try:
            document = tomllib.loads(read_capped(folder / "pyproject.toml", 1 << 20).decode("utf-8"))
        except (NotRegularFile, TooLarge, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise LocatedError(profile_file, f"{entry!r} has no readable pyproject.toml ({type(exc).__name__})",
                               "point it at a Python project folder", loc=where) from None  # fmt: skip
        name = (document.get("project") or {}).get("name")
        if not isinstance(name, str) or not grammar.full(grammar.PYPI_NAME, name):
            raise LocatedError(profile_file, f"{entry!r}: pyproject.toml has no valid [project] name",
                               "give the project a name", loc=where)  # fmt: skip
        out.append(Editable(folder, str(canonicalize_name(name))))
    return out


def install_editables(python: Path, editables: Sequence[Editable]) -> None:
    """`uv pip install --no-deps -e FOLDER` for each (uv builds them with their own backend)."""
    if editables:
        folders = [arg for e in editables for arg in ("--editable", str(e.folder))]
        run([uv_executable(), "pip", "install", "--no-config", "--quiet", "--python", str(python), "--no-deps",
             *folders])  # fmt: skip
