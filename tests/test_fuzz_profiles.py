"""Fuzz: the repository's real profiles mutated in 240 ways (fixed seed). Every mutant either loads
or is refused in one line naming the file, never a traceback or "internal error". How long each
answer takes is measured by benchmarks/refusal_speed.py, not asserted here."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from .conftest import REPO

SEED = 20261201
CASES = 240
NOISE = [
    "\x00",
    "\x1b[31m",
    "\n",
    "\t",
    ":",
    "- ",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "{",
    "[",
    "'",
    '"',
    "#",
    "é",
    "\ufeff",
    "-1e999",
    "null",
    "~",
    "0x10",
    "3.10",
    "\\",
    "${HOME}",
    "`id`",
    "$(id)",
    "; rm",
]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or [""]
    choice = rng.randrange(8)
    at = rng.randrange(len(lines))
    if choice == 0:  # drop a line
        del lines[at]
    elif choice == 1:  # repeat a line (duplicate keys, duplicate packages)
        lines.insert(at, lines[at])
    elif choice == 2:  # noise inside a line
        line = lines[at]
        cut = rng.randrange(len(line) + 1)
        lines[at] = line[:cut] + rng.choice(NOISE) + line[cut:]
    elif choice == 3:  # wrong indentation
        lines[at] = " " * rng.randrange(1, 5) + lines[at]
    elif choice == 4:  # truncate the file
        return text[: rng.randrange(len(text) + 1)]
    elif choice == 5:  # a value replaced by something of another type
        key, sep, _ = lines[at].partition(":")
        if sep:
            lines[at] = f"{key}: {rng.choice(['[1, 2]', '{a: b}', '42', 'true', '', 'x' * 300, '*alias'])}\n"
    elif choice == 6:  # an alias bomb prepended
        bomb = "x-a: &a [l, l, l, l, l, l, l, l]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nx-c: [*b, *b, *b, *b]\n"
        return bomb + text
    else:  # two mutations at once
        return mutate(mutate(text, rng), rng)
    return "".join(lines)


def _cases() -> list[tuple[str, int]]:
    names = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))
    rng = random.Random(SEED)
    return [(rng.choice(names), rng.randrange(1 << 30)) for _ in range(CASES)]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(REPO / "profiles", root / "profiles")
    return root


@pytest.mark.parametrize(("name", "seed"), _cases())
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
