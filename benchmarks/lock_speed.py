"""Time `provision lock --all` (cold and warm caches; serial `--jobs 1` beside the default
concurrent solves) and `provision lock --check --all`.

Runs on a temporary copy of this project, so the committed locks are never rewritten.
Cold: empty rattler and uv caches. Warm: the same command again with the caches filled.
The conda layer is solved through the repodata snapshot in tests/data (PROVISION_MIRRORS); the PyPI layer
asks PyPI, so the figures include network time. Run: python benchmarks/lock_speed.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import REPO, timed


def main() -> None:
    provision = str(Path(sys.executable).parent / "provision")
    with tempfile.TemporaryDirectory(prefix="provision-bench-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(".venv*", ".git", "*.egg-info", "__pycache__"))
        mirror = (REPO / "tests/data/fixtures/repodata/ml-from-locks/conda-forge").resolve()
        os.environ["PROVISION_MIRRORS"] = f"conda-forge={mirror}"
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp) / "cache"), UV_CACHE_DIR=str(Path(tmp) / "uv-cache"))
        base = [provision, "--root", str(root), "lock"]
        print(f"lock --all, cold caches            : {timed([*base, '--all', '--update-all'], env):6.2f} s")
        print(f"lock --all, warm, serial (--jobs 1): {timed([*base, '--all', '--update-all', '-j', '1'], env):6.2f} s")
        print(f"lock --all, warm, concurrent       : {timed([*base, '--all', '--update-all'], env):6.2f} s")
        print(f"lock --all --check                 : {timed([*base, '--all', '--check'], env):6.2f} s")


if __name__ == "__main__":
    main()
