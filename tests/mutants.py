"""The mutated profiles of the fuzz test (tests/test_fuzz_profiles.py), in a module of their own so that
benchmarks/refusal_speed.py times the same mutants without importing a test module."""

from __future__ import annotations

import random
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

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


def cases() -> list[tuple[str, int]]:
    names = sorted(p.stem for p in (REPO / "profiles").glob("*.yaml"))
    rng = random.Random(SEED)
    return [(rng.choice(names), rng.randrange(1 << 30)) for _ in range(CASES)]
