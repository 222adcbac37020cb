"""How often one `apply` visits each stage: lock reads, environment scans, stamps built, the lock's package
list filtered, plans made, and the provision modules whose code ran, counted with cProfile.

Runs the real entry point in process on the tests' small world (a file:// channel of tiny conda packages and
local wheels), three applies: create, no-op (the full path: the quick path is the console script's, not
`main()`'s) and a change (one wheel removed from the profile, locked again). Point --repo at another checkout
(a `git worktree` of an older commit) to count that code's visits on the same world:

    python benchmarks/apply_visits.py                      # this checkout
    git worktree add /tmp/before 7bde5cd && python benchmarks/apply_visits.py --repo /tmp/before
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# (label, function names counted): old and new names of the same stage, so one table reads both checkouts.
STAGES = [
    ("lock reads (read_lock)", {"read_lock"}),
    ("environment scans (read_state)", {"read_state"}),
    ("listing fingerprints", {"listing_fingerprint"}),
    ("wanted stamps built", {"wanted_stamp", "wanted"}),
    ("Brewfile hashed", {"_brewfile_hash", "file_hash"}),
    ("package list filtered (for_platform)", {"for_platform"}),
    ("plans made (make_plan)", {"make_plan"}),
    ("lock freshness checked", {"check_lock", "lock_statuses"}),
    ("project found (find_project)", {"find_project"}),
    ("host facts read (this_host)", {"this_host"}),
]


def counts(profile: cProfile.Profile, repo: Path) -> dict[str, int]:
    stats = pstats.Stats(profile)
    calls: dict[str, int] = {}
    modules = set()
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if filename.startswith(str(repo / "provision")):
            modules.add(filename)
            calls[name] = calls.get(name, 0) + row[1]  # primitive calls
    out = {label: sum(calls.get(name, 0) for name in names) for label, names in STAGES}
    out["provision modules whose code ran"] = len(modules)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=HERE, help="the checkout whose provision is counted")
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path[:0] = [str(repo), str(HERE)]
    from provision.cli import main as provision
    from tests.world import E2E  # the tests' world builder: the same tiny packages the suite applies

    with tempfile.TemporaryDirectory(prefix="provision-visits-") as folder:
        world = E2E(Path(folder))
        os.environ.update(world.env)
        base = ["--root", str(world.root)]

        def run(*argv: str) -> dict[str, int] | None:
            profile = cProfile.Profile()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                profile.enable()
                try:
                    provision([*base, *argv])
                except SystemExit as exc:
                    if exc.code:
                        sys.exit(f"{' '.join(argv)} failed: {err.getvalue()}")
                finally:
                    profile.disable()
            return counts(profile, repo)

        run("lock", "e2e")
        rows = {"create": run("apply", "e2e", "--yes"), "no-op": run("apply", "e2e", "--yes")}
        world.write_profile("provtest-tool 1.*", ["provtest-hello==1.0"], "yes")
        run("lock", "e2e")
        rows["change"] = run("apply", "e2e", "--yes")
    print(f"provision at {repo}")
    labels = list(next(iter(rows.values())).keys())  # type: ignore[union-attr]
    print(f"| per apply | {' | '.join(rows)} |\n|---|{'---|' * len(rows)}")
    for label in labels:
        print(f"| {label} | {' | '.join(str(row[label]) for row in rows.values() if row)} |")


if __name__ == "__main__":
    main()
