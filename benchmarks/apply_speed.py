"""No-op apply and warm re-create times for a profile (default linux-cpu), as whole processes.

1. apply once (downloads fill the cache; not timed), 2. no-op apply N times (median),
3. remove + apply again with the caches warm (re-create), --no-verify throughout.
Environments go to a temporary PROVISION_HOME; the download cache is the user's.
Run: python benchmarks/apply_speed.py [--profile linux-cpu] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import REPO, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="linux-cpu")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    provision = [str(Path(sys.executable).parent / "provision"), "--root", str(REPO)]
    with tempfile.TemporaryDirectory(prefix="provision-apply-bench-") as home:
        env = dict(os.environ, PROVISION_HOME=home)
        first = timed([*provision, "apply", args.profile, "--no-verify", "--yes"], env)
        noop = [timed([*provision, "apply", args.profile, "--no-verify"], env) for _ in range(args.runs)]
        subprocess.run([*provision, "remove", args.profile], env=env, check=True, capture_output=True)
        recreate = timed([*provision, "apply", args.profile, "--no-verify", "--yes"], env)
    print(f"{args.profile}: first apply {first:.2f} s (cache may have been warm)")
    print(f"no-op apply: median {statistics.median(noop) * 1000:.0f} ms over {args.runs} runs "
          f"(min {min(noop) * 1000:.0f}, max {max(noop) * 1000:.0f})")  # fmt: skip
    print(f"warm re-create (remove, then apply): {recreate:.2f} s")


if __name__ == "__main__":
    main()
