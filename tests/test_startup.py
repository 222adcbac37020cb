"""`provision --help` and `provision list` must not import what they do not use.

This checks imports, not time: timings live in benchmarks/startup.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO

HEAVY = ["pydantic", "rattler", "conda_lock", "jinja2", "rich", "packaging.requirements"]

PROBE = """
import json, sys
from provision.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["list"], ["--version"]])
def test_light_commands_import_no_heavy_modules(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--root", str(REPO), *args], capture_output=True, text=True, check=True
    )
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not [m for m in HEAVY if m in modules]


def test_show_does_import_validation() -> None:
    # The probe itself can tell a heavy import apart, so the test above is not vacuous.
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--root", str(REPO), "show", "torch-mps"], capture_output=True, text=True
    )
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "pydantic" in modules


def test_every_commands_help_loads_none_of_the_stages() -> None:
    """Each command module imports click at module level and its stages when it runs: `provision CMD --help` loads
    no validation, solver or table library, for every command (one process reads them all)."""
    from provision.cli import COMMANDS

    probe = ("import importlib, json, sys\nout = {}\nfor module in sys.argv[1:]:\n"
             "    importlib.import_module('provision.commands.' + module)\n"
             "    out[module] = sorted(m for m in " + repr(HEAVY) + " if m in sys.modules)\n"
             "    if out[module]:\n        break\nprint(json.dumps(out))\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe, *sorted(module for module, _ in COMMANDS.values())],
                          capture_output=True, text=True, check=True)  # fmt: skip
    loaded = {module: heavy for module, heavy in json.loads(done.stdout).items() if heavy}
    assert loaded == {}, f"the first command module that loads a stage at import: {loaded}"
