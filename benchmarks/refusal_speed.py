"""How fast hostile input is refused, as whole processes: an alias-bomb profile, a 21 MB lock, a FIFO
named as a lockfile, and the slowest of the fuzz test's 240 profile mutants (in-process).
Run: python benchmarks/refusal_speed.py"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.mutants import cases as mutant_cases
from tests.mutants import mutate

REPO = Path(__file__).resolve().parent.parent
PROVISION = str(Path(sys.executable).parent / "provision")
BOMB = ("x-a: &a [l, l, l, l, l, l, l, l, l]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nx-d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n")  # fmt: skip


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(REPO / "profiles", root / "profiles")
        (root / "profiles" / "bomb.yaml").write_text("name: bomb\nplatforms: [linux-64]\npython: '3.11'\n" + BOMB)
        (root / "huge.yml").write_text("x" * 21_000_000)
        os.mkfifo(root / "fifo.yml")
        dry = ["--prefix", str(root / "p"), "--dry-run"]
        cases = {
            "alias-bomb profile": [PROVISION, "--root", str(root), "show", "bomb"],
            "21 MB lock": [PROVISION, "apply", "--lockfile", str(root / "huge.yml"), *dry],
            "FIFO as lockfile": [PROVISION, "apply", "--lockfile", str(root / "fifo.yml"), *dry],
        }
        for label, argv in cases.items():
            seconds, code = timed(argv)
            print(f"{label:<20} exit {code}  {seconds * 1000:6.0f} ms")
        from provision.cli import main as cli

        slowest = 0.0
        for name, seed in mutant_cases():
            path = root / "profiles" / f"{name}.yaml"
            original = (REPO / "profiles" / f"{name}.yaml").read_text()
            path.write_text(mutate(original, random.Random(seed)))
            start = time.perf_counter()
            quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
            with contextlib.suppress(SystemExit), quiet[0], quiet[1]:
                cli(["--root", str(root), "show", name])
            slowest = max(slowest, time.perf_counter() - start)
            path.write_text(original)
        print(f"slowest of {len(mutant_cases())} fuzz mutants (in-process): {slowest * 1000:.0f} ms")


if __name__ == "__main__":
    main()
