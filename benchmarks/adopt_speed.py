"""Adopting real files, timed side by side with the anchors on the same files:

- `provision init --from` on the largest file of each kind in the corpus (whole process);
- reading the largest real conda-lock file: provision's validating reader, conda-lock's own parser
  (`parse_conda_lock_file`) and py-rattler's `LockFile.from_path` (in process, best of 5).

Run: python benchmarks/adopt_speed.py"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _timing import REPO, timed

ADOPT = REPO / "tests" / "data" / "fixtures" / "adopt"
PROVISION = str(Path(sys.executable).parent / "provision")


def best(action: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def largest(folder: str) -> Path:
    return max((p for p in (ADOPT / folder).rglob("*") if p.is_file() and p.name != "PROVENANCE.md"),
               key=lambda p: p.stat().st_size)  # fmt: skip


def main() -> None:
    print("init --from, whole process (largest file of each kind):")
    for folder in ("environment", "requirements", "pixi", "pyproject", "brewfile"):
        source = largest(folder)
        root = Path(tempfile.mkdtemp(prefix="adopt-speed-"))
        seconds = min(timed([PROVISION, "--root", str(root), "init", "t", "--from", str(source), "--force"])
                      for _ in range(3))  # fmt: skip
        shutil.rmtree(root)
        print(f"  {folder:<13} {source.name:<60} {source.stat().st_size / 1000:7.1f} kB  {seconds:.2f} s")

    from conda_lock.lockfile import parse_conda_lock_file
    from rattler import LockFile

    from provision.lock.lockfile import read_lock

    lock = largest("conda-lock")
    print(f"\nreading {lock.name} ({lock.stat().st_size / 1000:.0f} kB), in process, best of 5:")
    print(f"  provision read_lock (every field validated)  {best(lambda: read_lock(lock)) * 1000:7.1f} ms")
    print(f"  conda-lock parse_conda_lock_file             {best(lambda: parse_conda_lock_file(lock)) * 1000:7.1f} ms")
    try:
        print(f"  py-rattler LockFile.from_path                {best(lambda: LockFile.from_path(lock)) * 1000:7.1f} ms")
    except Exception as exc:  # rattler refuses some real files; say so rather than hide it
        print(f"  py-rattler LockFile.from_path                refused: {str(exc).splitlines()[0][:80]}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
