"""conda's list of environments (`~/.conda/environments.txt`), which `conda env list`, micromamba, VS Code's
Python extension and Jupyter's pickers read: a conda-kind environment provision creates is added when
its apply finishes and taken out when provision removes it, as conda and micromamba do. A venv is never
listed there (those tools would treat it as a conda environment)."""

from __future__ import annotations

from pathlib import Path

from ..files import write_atomic


def registry() -> Path:
    return Path.home() / ".conda" / "environments.txt"


def register(prefix: Path) -> None:
    path = registry()
    lines = _lines(path)
    if str(prefix) not in lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, "".join(f"{line}\n" for line in [*lines, str(prefix)]))


def unregister(prefix: Path) -> None:
    path = registry()
    lines = _lines(path)
    if str(prefix) in lines:
        write_atomic(path, "".join(f"{line}\n" for line in lines if line != str(prefix)))


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]
