"""No-op apply beside its anchor, `uv sync --frozen`, on the same wheels; and warm re-create beside its
anchor, `uv sync --frozen` into a fresh venv with uv's cache warm.

1. apply once (downloads fill the cache; not timed), 2. no-op apply N times (median), whole processes,
3. a uv project pinning exactly the profile's locked wheels: `uv sync` once, then `uv sync --frozen`
   N times (median), 4. remove + apply again with the caches warm (re-create), N times (median; every
   artifact's hash is checked at use each time, and every installed file against its wheel's RECORD),
   5. the anchor: delete the uv project's .venv and `uv sync --frozen` again, N times (median; uv links
   from its cache of unpacked wheels and reads no byte of them), 6. the second anchor: the same verified
   wheel files into a fresh venv with `uv pip install --no-cache` (every byte from the wheels).
   --no-verify throughout.
Environments go to a temporary PROVISION_HOME; the download caches are the user's.
Run: python benchmarks/apply_speed.py [--profile linux-cpu] [--runs 7]   (needs PyPI for uv lock)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import REPO, timed


def uv_project(folder: Path, profile: str) -> Path:
    """A uv project whose dependencies are the profile's locked wheels, pinned exactly."""
    sys.path.insert(0, str(REPO))
    from provision.lock.lockfile import read_lock

    lock = read_lock(REPO / "envs" / profile / "conda-lock.yml")
    pins = sorted(f'"{p.name}=={p.version}"' for p in lock.for_platform("linux-64") if p.manager == "pip")
    python = lock.python_version("linux-64") or "3.11"
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "anchor"\nversion = "0"\nrequires-python = "=={python}.*"\n'
        f"dependencies = [{', '.join(pins)}]\n[tool.uv]\npackage = false\n"
    )
    return folder


def uv_from_the_wheels(uv: str, home: Path, profile: str, env: dict[str, str]) -> float:
    """The second anchor: a fresh venv (from the interpreter provision's venv uses) and the same verified wheel
    files, by the requirements provision handed uv, with uv's cache of unpacked wheels left out (`--no-cache`), so
    every installed byte comes from the wheels themselves: uv's own way to what provision checks after install.
    Timed as one command, as `uv sync` makes its venv and installs in one."""
    made = home / "envs" / profile
    requirements = made / ".provision" / "pypi-requirements.txt"
    interpreter = (made / "pyvenv.cfg").read_text().split("home = ", 1)[1].split("\n", 1)[0] + "/python3"
    venv = home / "from-wheels"
    shutil.rmtree(venv, ignore_errors=True)
    script = (f"{uv} venv --quiet --python {interpreter} {venv} && {uv} pip install --quiet --no-cache --no-deps "
              f"--require-hashes --no-index --python {venv}/bin/python -r {requirements}")  # fmt: skip
    return timed(["bash", "-c", script], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="linux-cpu")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    provision = [str(Path(sys.executable).parent / "provision"), "--root", str(REPO)]
    uv = str(Path(sys.executable).parent / "uv")
    with tempfile.TemporaryDirectory(prefix="provision-apply-bench-") as home:
        env = dict(os.environ, PROVISION_HOME=home)
        first = timed([*provision, "apply", args.profile, "--no-verify", "--yes"], env)
        timed([*provision, "apply", args.profile, "--no-verify"], env)  # records the inputs for the quick path
        noop = [timed([*provision, "apply", args.profile, "--no-verify"], env) for _ in range(args.runs)]
        (Path(home) / "anchor").mkdir()
        project = uv_project(Path(home) / "anchor", args.profile)
        subprocess.run([uv, "lock", "--quiet", "--project", str(project)], check=True, env=env)
        subprocess.run([uv, "sync", "--quiet", "--project", str(project)], check=True, env=env)
        anchor = [timed([uv, "sync", "--frozen", "--quiet", "--project", str(project)], env) for _ in range(args.runs)]
        recreates, fresh_venvs, from_wheels = [], [], []
        for _ in range(args.runs):
            # Each timed from a quiet disk (os.sync first), for both sides alike: the writes of the step before (the
            # second anchor writes every byte anew) would otherwise be flushed during the next, and its figure with it.
            subprocess.run([*provision, "remove", args.profile], env=env, check=True, capture_output=True)
            os.sync()
            recreates.append(timed([*provision, "apply", args.profile, "--no-verify", "--yes"], env))
            shutil.rmtree(project / ".venv")
            os.sync()
            fresh_venvs.append(timed([uv, "sync", "--frozen", "--quiet", "--project", str(project)], env))
            os.sync()
            from_wheels.append(uv_from_the_wheels(uv, Path(home), args.profile, env))
    ours, theirs = statistics.median(noop), statistics.median(anchor)
    recreate, fresh_venv = statistics.median(recreates), statistics.median(fresh_venvs)
    print(f"{args.profile}: first apply {first:.2f} s (cache may have been warm)")
    print(f"no-op apply:        median {ours * 1000:.0f} ms over {args.runs} runs "
          f"(min {min(noop) * 1000:.0f}, max {max(noop) * 1000:.0f})")  # fmt: skip
    print(f"uv sync --frozen:   median {theirs * 1000:.0f} ms over {args.runs} runs "
          f"(min {min(anchor) * 1000:.0f}, max {max(anchor) * 1000:.0f}), same wheels")  # fmt: skip
    print(f"ratio (provision / uv): {ours / theirs:.2f}x")
    print(f"warm re-create (remove, then apply): median {recreate:.2f} s over {args.runs} runs "
          f"(min {min(recreates):.2f}, max {max(recreates):.2f})")  # fmt: skip
    print(f"uv sync --frozen into a fresh venv, cache warm: median {fresh_venv:.2f} s "
          f"(min {min(fresh_venvs):.2f}, max {max(fresh_venvs):.2f})")  # fmt: skip
    print(f"ratio (provision / uv): {recreate / fresh_venv:.2f}x")
    wheels = statistics.median(from_wheels)
    print(f"uv pip install --no-cache of the same verified wheel files into a fresh venv (every byte read from the "
          f"wheels): median {wheels:.2f} s (min {min(from_wheels):.2f}, max {max(from_wheels):.2f})")  # fmt: skip
    print(f"ratio (provision / uv from the wheels): {recreate / wheels:.2f}x")


if __name__ == "__main__":
    main()
