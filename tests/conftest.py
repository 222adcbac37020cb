from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provision.cli import main
from provision.profile.model import Profile

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the real entry point (error mapping included) and capture what a user would see."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this repository's profiles and generated files to modify freely."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("profiles", "envs", "schema"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name)
    for name in ("Brewfile", "flake.nix"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, root / name)
    return root


def make_profile(**fields: object) -> Profile:
    """A valid osx-arm64 conda profile named 't' with Python 3.11; `fields` override or add keys."""
    defaults = {"name": "t", "platforms": ["osx-arm64"], "python": "3.11", "channels": ["conda-forge"]}
    return Profile.model_validate({**defaults, **fields})


def require_tool(name: str) -> str:
    """Tests that need a real consumer fail loudly when it is missing (CI installs it)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; .ci/run installs it (apt-get install ruby nix-bin)")
    return path
