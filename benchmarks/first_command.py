"""Time the README's first command as a newcomer runs it: a fresh `git clone` of this repository's HEAD,
an empty home folder, the command split at its `&&` so each part is timed (venv, pip, apply with its
acceptance run). The download caches are the machine's, warm or not as they are: say which in the note.

    python benchmarks/first_command.py
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def first_command() -> str:
    section = (REPO / "README.md").read_text().split("## Two commands", 1)[1]
    return section.split("```\n", 2)[1].strip()


def main() -> None:
    command = first_command()
    with tempfile.TemporaryDirectory(prefix="first-command-") as tmp:
        clone = Path(tmp) / "provision"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        home = Path(tmp) / "home"
        home.mkdir()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PROVISION_", "CONDA_"))}
        env = {**base, "HOME": str(home), "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"),
               "UV_CACHE_DIR": str(Path.home() / ".cache" / "uv")}  # fmt: skip
        total = 0.0
        for part in command.split(" && "):
            started = time.perf_counter()
            done = subprocess.run(["bash", "-c", part], cwd=clone, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            total += elapsed
            print(f"{elapsed:6.1f} s  {part}")
            if done.returncode != 0:
                raise SystemExit(f"failed ({done.returncode}): {done.stderr[-2000:]}")
        print(f"{total:6.1f} s  in all (load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
