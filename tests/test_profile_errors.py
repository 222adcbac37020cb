"""Malformed profiles: each gives one line naming the file, the place and the fix, exit code 1."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .inprocess import PROVISION

OK_HEAD = 'name: bad\nplatforms: [linux-64]\npython: "3.11"\nchannels: [conda-forge]\n'

# (id, profile text, substrings the single error line must contain)
CASES = [
    ("yaml-syntax-tab", "name: bad\n\tplatforms: [linux-64]\n", ["bad.yaml:2:", "YAML syntax error"]),
    ("yaml-unclosed-list", "name: bad\nplatforms: [linux-64\n", ["bad.yaml:3:", "YAML syntax error"]),
    ("yaml-bad-indent", "name: bad\nconda:\n  - numpy\n - scipy\n", ["bad.yaml:4:", "YAML syntax error"]),
    ("duplicate-key", OK_HEAD + 'python: "3.12"\n', ["bad.yaml:5:1", "duplicate key", "line 3"]),
    ("not-a-mapping", "- just\n- a list\n", ["bad.yaml:1:1", "mapping of keys"]),
    ("empty-file", "", ["bad.yaml:1:1", "the file is empty"]),
    ("name-mismatch", "name: other\n", ["bad.yaml:1:7", "name:", "make them equal"]),
    (
        "unknown-top-key",
        OK_HEAD + "platfroms: [osx-arm64]\n",
        ["bad.yaml:5:1", "platfroms", "did you mean 'platforms'"],
    ),
    ("unknown-nested-key", OK_HEAD + "pypi:\n  pakages: [torch]\n", ["bad.yaml:6:3", "pypi.pakages", "'packages'"]),
    ("unknown-requires-key", OK_HEAD + "requires:\n  macOS: '14.0'\n", ["requires.macOS", "did you mean 'macos'"]),
    ("unknown-brew-key", OK_HEAD + "brew:\n  formula: [git]\n", ["brew.formula", "'formulae'"]),
    (
        "bad-platform",
        'name: bad\nplatforms: [osx-64]\npython: "3.11"\n',
        ["bad.yaml:2:", "platforms[0]", "'osx-arm64'"],
    ),
    ("bad-kind", OK_HEAD + "kind: docker\n", ["bad.yaml:5:7", "kind", "'conda' or 'venv'"]),
    ("python-as-float", "name: bad\nplatforms: [linux-64]\npython: 3.10\n", ["bad.yaml:3:9", "python", "quote it"]),
    ("python-bad-version", 'name: bad\nplatforms: [linux-64]\npython: "2.7"\n', ["python", "'3.11'"]),
    (
        "conda-bad-matchspec",
        OK_HEAD + "conda:\n  - numpy >>2\n",
        ["bad.yaml:6:5", "conda[0]", "MatchSpec", "numpy >=2,<3"],
    ),
    ("conda-bad-name", OK_HEAD + "conda:\n  - ok\n  - 'foo[bar'\n", ["bad.yaml:7:5", "conda[1]", "MatchSpec"]),
    ("conda-python-entry", OK_HEAD + "conda:\n  - python 3.11\n", ["conda[0]", "top-level `python:`"]),
    ("conda-not-list", OK_HEAD + "conda: numpy\n", ["bad.yaml:5:8", "conda", "valid list"]),
    (
        "pypi-bad-requirement",
        OK_HEAD + "pypi:\n  packages: ['torch=2.0']\n",
        ["pypi.packages[0]", "PEP 508", "torch==2.11.0"],
    ),
    (
        "pypi-direct-url",
        OK_HEAD + "pypi:\n  packages: ['x @ https://e.org/x.whl']\n",
        ["pypi.packages[0]", "find_links"],
    ),
    ("pypi-bad-index", OK_HEAD + "pypi:\n  index_url: pypi.org/simple\n", ["pypi.index_url", "URL"]),
    (
        "brew-injection-quote",
        OK_HEAD + 'brew:\n  formulae: [\'git"; system("id"); "\']\n',
        ["brew.formulae[0]", "Homebrew formula"],
    ),
    ("brew-injection-interp", OK_HEAD + "brew:\n  formulae: ['x#{`id`}']\n", ["brew.formulae[0]", "Homebrew formula"]),
    ("brew-injection-newline", OK_HEAD + 'brew:\n  casks: ["a\\nsystem(1)"]\n', ["brew.casks[0]", "Homebrew cask"]),
    ("brew-injection-backslash", OK_HEAD + "brew:\n  formulae: ['a\\\\b']\n", ["brew.formulae[0]"]),
    ("brew-bad-tap", OK_HEAD + "brew:\n  taps: [homebrew]\n", ["brew.taps[0]", "user/repo"]),
    ("nix-injection", OK_HEAD + "nix: ['uv; }; evil = {']\n", ["nix[0]", "nixpkgs attribute"]),
    ("env-bad-name", OK_HEAD + "env:\n  'BAD NAME': x\n", ["env", "environment variable name"]),
    ("env-newline-value", OK_HEAD + 'env:\n  A: "x\\ny"\n', ["env.A", "one line"]),
    ("memory-negative", OK_HEAD + "requires:\n  memory_gb: -1\n", ["requires.memory_gb", "greater than 0"]),
    ("macos-bad-version", OK_HEAD + "requires:\n  macos: sonoma\n", ["requires.macos", "'14.0'"]),
    ("arm64-not-bool", OK_HEAD + "requires:\n  arm64_native: maybe\n", ["requires.arm64_native", "boolean"]),
    (
        "threshold-out-of-range",
        OK_HEAD + "acceptance:\n  thresholds:\n    min_fraction_of_peak: 2\n",
        ["acceptance.thresholds.min_fraction_of_peak", "less than or equal to 1"],
    ),
    ("unknown-benchmark", OK_HEAD + "acceptance:\n  benchmarks: [paddle]\n", ["acceptance.benchmarks[0]", "'torch'"]),
    ("bad-device", OK_HEAD + "acceptance:\n  device: tpu\n", ["acceptance.device", "'cuda'"]),
    (
        "bad-channel",
        'name: bad\nplatforms: [linux-64]\npython: "3.11"\nchannels: ["conda forge"]\n',
        ["channels[0]", "conda channel"],
    ),
    ("virtual-bad-platform", OK_HEAD + "virtual_packages:\n  win-64: {__cuda: '12'}\n", ["virtual_packages.win-64"]),
    (
        "virtual-not-in-platforms",
        OK_HEAD + "virtual_packages:\n  osx-arm64: {__osx: '14'}\n",
        ["bad.yaml:6:3", "virtual_packages.osx-arm64", "not in platforms"],
    ),
    ("virtual-bad-name", OK_HEAD + "virtual_packages:\n  linux-64: {cuda: '12'}\n", ["virtual package name"]),
    ("no-platforms", 'name: bad\npython: "3.11"\nchannels: [conda-forge]\n', ["platforms", "at least one platform"]),
    ("no-python", "name: bad\nplatforms: [linux-64]\nchannels: [conda-forge]\n", ["python", 'python: "3.11"']),
    (
        "conda-without-channels",
        'name: bad\nplatforms: [linux-64]\npython: "3.11"\nconda: [numpy]\n',
        ["channels", "at least one channel"],
    ),
    (
        "venv-with-conda",
        'name: bad\nkind: venv\nplatforms: [linux-64]\npython: "3.11"\nconda: [numpy]\n',
        ["bad.yaml:5:1", "conda", "venv profile has no conda layer"],
    ),
    (
        "both-layers",
        OK_HEAD + "conda: [numpy]\npypi:\n  packages: [numpy>=2]\n",
        ["bad.yaml:5:9", "conda[0]", "both layers", "pypi.packages[0]"],
    ),
    (
        "both-layers-alias",
        OK_HEAD + "conda: [pytorch]\npypi:\n  packages: [torch==2.11.0]\n",
        ["'pytorch'", "both layers"],
    ),
    ("extends-unknown", OK_HEAD + "extends: [nosuch]\n", ["bad.yaml:5:11", "unknown profile 'nosuch'", "available:"]),
    ("bad-name-chars", "name: Bad_Name\n", ["name:"]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_profile_gives_one_clear_line(project: Path, run_cli, text: str, expected: list[str]) -> None:
    (project / "profiles" / "bad.yaml").write_text(text)
    result = run_cli("--root", str(project), "show", "bad")
    assert result.code == 1, result.err
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: profiles/bad.yaml"), lines[0]
    assert "Traceback" not in result.err
    for fragment in expected:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def test_every_case_is_refused_for_its_own_reason(project: Path, run_cli) -> None:
    # Distinct cases must read differently to the user: two cases answered by the same line would
    # mean one of them is not reaching the rule it names.
    answers: dict[str, str] = {}
    for name, text, _ in CASES:
        (project / "profiles" / "bad.yaml").write_text(text)
        line = run_cli("--root", str(project), "show", "bad").err.strip()
        same = [other for other, answer in answers.items() if answer == line]
        assert not same, f"{name} is answered like {same}"
        answers[name] = line
    assert len(answers) >= 30


def test_error_in_parent_points_at_the_parent_file(project: Path, run_cli) -> None:
    (project / "profiles" / "parent.yaml").write_text("name: parent\nabstract: true\nconda: ['numpy >>2']\n")
    (project / "profiles" / "child.yaml").write_text(OK_HEAD.replace("bad", "child") + "extends: parent\n")
    result = run_cli("--root", str(project), "show", "child")
    assert result.code == 1
    assert result.err.startswith("error: profiles/parent.yaml:3:"), result.err


def test_extends_cycle_is_named(project: Path, run_cli) -> None:
    (project / "profiles" / "a.yaml").write_text("name: a\nextends: b\n")
    (project / "profiles" / "b.yaml").write_text("name: b\nextends: [a]\n")
    result = run_cli("--root", str(project), "show", "a")
    assert result.code == 1
    assert "cycle (a -> b -> a)" in result.err or "cycle (b -> a -> b)" in result.err


def test_unknown_profile_lists_available(project: Path, run_cli) -> None:
    result = run_cli("--root", str(project), "show", "torch-mpss")
    assert result.code == 1
    assert "no profile named 'torch-mpss'" in result.err
    assert "torch-mps" in result.err.split("available:")[1]


def test_debug_shows_the_traceback(project: Path, run_cli) -> None:
    (project / "profiles" / "bad.yaml").write_text("name: bad\nkind: docker\n")
    with pytest.raises(Exception, match="kind"):
        from provision.cli import main

        main(["--debug", "--root", str(project), "show", "bad"])


def test_several_problems_are_counted(project: Path, run_cli) -> None:
    (project / "profiles" / "bad.yaml").write_text(OK_HEAD + "kind: docker\nconda: ['numpy >>2']\n")
    result = run_cli("--root", str(project), "show", "bad")
    assert "(and 1 more problem in this file)" in result.err


def test_list_marks_a_broken_profile_and_exits_1(project: Path, run_cli) -> None:
    (project / "profiles" / "bad.yaml").write_text("name: bad\nplatforms: [linux-64\n")
    result = run_cli("--root", str(project), "list")
    assert result.code == 1
    assert "bad" in result.out and "INVALID" in result.out
    assert "1 invalid profile(s): bad" in result.err
    assert "torch-mps" in result.out


@pytest.mark.parametrize("kind", ["FIFO", "folder"])
@pytest.mark.parametrize("command", [["list"], ["render"], ["show", "pipe"]])
def test_a_profile_that_is_no_regular_file_is_refused_never_skipped_or_waited_on(
    project: Path, kind: str, command: list[str]
) -> None:
    path = project / "profiles" / "pipe.yaml"
    if kind == "FIFO":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    else:
        path.mkdir()
    # A real process with a deadline: a hang fails the test instead of stalling the run.
    result = subprocess.run([PROVISION, "--root", str(project), *command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "error: profiles/pipe.yaml: not a regular file; make it a regular YAML file, or remove " \
        "it from profiles/.\n"  # fmt: skip


def test_an_editors_lock_beside_a_profile_stops_nothing(project: Path, run_cli) -> None:
    """Emacs holds `.#NAME.yaml`, a link to nothing, while a profile is open: a hidden file is not a profile."""
    os.symlink("user@host.1234:1700000000", project / "profiles" / ".#torch-mps.yaml")
    listed = run_cli("--root", str(project), "list")
    assert listed.code == 0, listed.out
    assert "torch-mps" in listed.out and ".#" not in listed.out
