"""The entry point, and its answer for the commonest call: `provision apply PROFILE` when nothing
changed. Standard library only, so that answer costs a Python start-up and a few stat calls.

The last finished apply wrote into its stamp a fingerprint of the environment's listings and a
digest of every input that could change the outcome (the project's profiles, this profile's lock and
Brewfile, provision's version, the machine), and, when it left the environment exactly as the lock
says, the quick record: those two and the stamp's own hash in three plain lines (layout.py), read
without json. When both still match, the answer is "up to date" without loading a profile, a lock or
click; anything else (other options, a difference of one byte) takes the full path, which compares the
environment with the lock itself.
"""

from __future__ import annotations

import os
import sys

from . import layout

# Options that cannot change a no-op's outcome: verify, brew, waiting and extras act only on a change
# (extras can only exist when the stamp says the environment was not exact, which forbids this path).
HARMLESS = {"--no-verify", "--yes", "-y", "--no-brew", "--no-wait", "--keep-extras"}


def _parse(argv: list[str]) -> tuple[str | None, str, str | None] | None:
    """(root, profile, prefix) of a plain `[--root DIR] apply PROFILE [--prefix DIR] [harmless...]`."""
    args = list(argv)
    root = None
    if args[:1] == ["--root"] and len(args) > 2:
        root, args = args[1], args[2:]
    if len(args) < 2 or args[0] != "apply" or args[1].startswith("-"):
        return None
    profile, rest, prefix = args[1], args[2:], None
    while rest:
        if rest[0] == "--prefix" and len(rest) > 1:
            prefix, rest = rest[1], rest[2:]
        elif rest[0] in HARMLESS:
            rest = rest[1:]
        else:
            return None
    if not profile.replace("-", "").isalnum() or not profile.isascii():
        return None
    return root, profile, prefix


def up_to_date(argv: list[str]) -> str | None:
    """The line to print when this call is a no-op apply that needs no further look, else None."""
    parsed = _parse(argv)
    if parsed is None or any(name.startswith("CONDA_OVERRIDE_") for name in os.environ):
        return None
    explicit_root, profile, explicit_prefix = parsed
    root = layout.find_root(explicit_root)
    if root is None:
        return None
    prefix = os.path.realpath(explicit_prefix or os.path.join(layout.envs_dir(), profile))
    # Written only for an exact, variant-free stamp, after it, with its hash; removed before it (apply/stamp.py).
    record = layout.read_quick_record(prefix)
    if record is None or record[0] != profile:
        return None
    if os.path.exists(layout.backup_path(prefix)):  # an interrupted apply's copy: the full path
        return None
    _, inputs, fingerprint = record
    if inputs != layout.inputs_digest(layout.input_files(root, profile)):
        return None
    if fingerprint != layout.listing_fingerprint(prefix):
        return None
    return f"{profile}: up to date ({prefix})"


TOO_OLD = (
    "provision needs Python 3.10 or newer (this is {version}); on a Mac run `brew install python@3.11` "
    "or use `uv run provision ...`, which fetches a suitable Python."
)


def main() -> None:
    # Apple's /usr/bin/python3 is 3.9: say how to get a newer one, in one line.
    if sys.version_info < (3, 10):  # noqa: UP036
        sys.exit(TOO_OLD.format(version=".".join(map(str, sys.version_info[:3]))))
    line = up_to_date(sys.argv[1:])
    if line is not None:
        print(line)
        return
    from .cli import main as full

    full()
