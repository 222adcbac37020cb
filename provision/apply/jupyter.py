"""Opt-in: register the environment as a Jupyter kernel named after the profile."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..errors import ProvisionError
from ..files import write_atomic
from .pypi_install import env_python


def kernels_dir() -> Path:
    """Where Jupyter looks for user kernels ($JUPYTER_DATA_DIR, else the platform default)."""
    if os.environ.get("JUPYTER_DATA_DIR"):
        return Path(os.environ["JUPYTER_DATA_DIR"]) / "kernels"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Jupyter" / "kernels"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "jupyter" / "kernels"


def register_kernel(name: str, prefix: Path, env: dict[str, str]) -> Path:
    if not list(prefix.glob("lib/python3*/site-packages/ipykernel*")):
        raise ProvisionError(f"{prefix}: ipykernel is not installed; add it to the profile to register a kernel.")
    spec = {
        "argv": [str(env_python(prefix)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"{name} (provision)",
        "language": "python",
        "env": {
            **env,
            "CONDA_PREFIX": str(prefix),
            "PATH": f"{prefix / 'bin'}{os.pathsep}" + os.environ.get("PATH", ""),
        },
        "metadata": {"provision": {"profile": name, "prefix": str(prefix)}},
    }
    path = kernels_dir() / f"provision-{name}" / "kernel.json"
    write_atomic(path, json.dumps(spec, indent=1, sort_keys=True) + "\n")
    return path
