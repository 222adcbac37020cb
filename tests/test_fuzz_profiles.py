"""Fuzz: the repository's real profiles mutated in 240 ways (fixed seed). Every mutant either loads
or is refused in one line naming the file, never a traceback or "internal error". How long each
answer takes is measured by benchmarks/refusal_speed.py, not asserted here."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from .conftest import REPO
from .mutants import cases, mutate


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(REPO / "profiles", root / "profiles")
    return root


@pytest.mark.parametrize(("name", "seed"), cases())
def test_a_mutated_profile_loads_or_is_refused_in_one_line(sandbox: Path, run_cli, name: str, seed: int) -> None:
    original = (REPO / "profiles" / f"{name}.yaml").read_text(encoding="utf-8")
    target = sandbox / "profiles" / f"{name}.yaml"
    target.write_text(mutate(original, random.Random(seed)), encoding="utf-8")
    try:
        result = run_cli("--root", str(sandbox), "show", name)
    finally:
        target.write_text(original, encoding="utf-8")
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.code in (0, 1), result.err
    if result.code == 1:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: profiles/"), result.err
