"""The plan, pure: drift in, steps and per-layer work lists out; and the executor, with the runner swapped for
a recorder, walking exactly those lists (no process, no prefix contents needed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provision.apply import pypi_install
from provision.apply.drift import Drift, DriftKind, Layer
from provision.apply.execute import _pypi
from provision.apply.plan import Plan, PlanInputs, StepName, Work, make_plan
from provision.apply.stamp import Stamp
from provision.apply.target import Intent, Target
from provision.apply.wheel_files import WheelRecords
from provision.lock.lockfile import LockData
from provision.lock.records import LockedPackage
from provision.runner import swapped

PLATFORM = "linux-64"


def package(name: str, manager: str = "conda", url: str | None = None) -> LockedPackage:
    url = url or f"https://example.invalid/{name}-1.0-0.conda"
    return LockedPackage(name, "1.0", manager, PLATFORM, url, "0" * 64)  # type: ignore[arg-type]


LOCKED = [package("python"), package("numpy"), package("zlib"),
          package("requests", "pip", "https://files.example.invalid/requests-1.0-py3-none-any.whl"),
          package("idna", "pip", "https://files.example.invalid/idna-1.0-py3-none-any.whl"),
          package("tool", "pip", "git+https://github.com/o/tool@" + "a" * 40)]  # fmt: skip
WANTED = Stamp(profile="t", platform=PLATFORM, conda="c", pypi="p", activation="a", python="3.12")


def plan(drift: list[Drift], exists: bool = True, keep_extras: bool = False, stamp: Stamp | None = WANTED) -> Plan:
    return make_plan(PlanInputs(
        target="t", prefix="/envs/t", platform=PLATFORM, kind="conda", prefix_exists=exists, stamp=stamp,
        wanted=WANTED, drift=drift, installed_python=None, activation_current=True, packages=LOCKED,
        on_macos=False, brew_entries=0, use_brew=True, benchmarks=[], verify=False, keep_extras=keep_extras,
    ))  # fmt: skip


def drifted(layer: Layer, kind: DriftKind, name: str) -> Drift:
    return Drift(layer, kind, name, locked="1.0", installed="0.9", files=("pip",) if kind is DriftKind.FOREIGN else ())


MIXED = [drifted(Layer.CONDA, DriftKind.MISSING, "numpy"), drifted(Layer.CONDA, DriftKind.CHANGED, "zlib"),
         drifted(Layer.CONDA, DriftKind.EXTRA, "curl"), drifted(Layer.PYPI, DriftKind.FOREIGN, "requests"),
         drifted(Layer.PYPI, DriftKind.FILES, "idna"), drifted(Layer.PYPI, DriftKind.EXTRA, "rich")]  # fmt: skip


def test_nothing_differs_nothing_acts_and_nothing_is_fetched() -> None:
    made = plan([])
    assert made.up_to_date
    assert (made.conda, made.pypi, made.fetch) == (Work(), Work(), ())


def test_a_new_environment_fetches_every_artifact_but_the_git_entry() -> None:
    made = plan([], exists=False, stamp=None)
    assert made.step(StepName.ENVIRONMENT).acts and made.step(StepName.PYPI).acts
    assert [p.name for p in made.fetch] == ["python", "numpy", "zlib", "requests", "idna"]  # lock order


def test_each_kind_of_drift_lands_in_its_layers_list() -> None:
    made = plan(MIXED)
    assert made.conda == Work(install=frozenset({"numpy"}), reinstall=frozenset({"zlib"}), remove=frozenset({"curl"}))
    assert made.pypi == Work(reinstall=frozenset({"requests", "idna"}), remove=frozenset({"rich"}))
    assert made.pypi.changing == 2
    assert {p.name for p in made.fetch} == {"python", "numpy", "zlib", "requests", "idna"}


def test_only_the_acting_layer_is_fetched() -> None:
    made = plan([drifted(Layer.PYPI, DriftKind.MISSING, "idna")])
    assert not made.step(StepName.ENVIRONMENT).acts
    assert [p.name for p in made.fetch] == ["requests", "idna"]


def test_keep_extras_keeps_them_listed_and_acts_on_nothing_else() -> None:
    extras = [d for d in MIXED if d.kind is DriftKind.EXTRA]
    made = plan(extras, keep_extras=True)
    assert made.up_to_date and made.fetch == ()
    assert made.conda.keep == {"curl"} and made.pypi.keep == {"rich"}
    assert not made.conda.remove and not made.pypi.remove


def test_the_executor_walks_the_plans_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PyPI step asks uv for exactly the plan's reinstall and remove lists, holds exactly what it installed to
    the wheels' RECORDs, and says so in numbers. (Nothing is installed here, so the check itself is recorded, not
    run: tests/test_drift.py runs it on real installs.)"""
    lock = LockData(platforms=[PLATFORM], channels=[], sources=[], content_hash={}, packages=LOCKED)
    target = Target(name="t", prefix=tmp_path / "env", platform=PLATFORM, lock=lock, lock_path=tmp_path / "lock")
    local = {p.url: tmp_path / p.file_name for p in LOCKED}
    commands: list[list[str]] = []

    def record(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    checked: list[set[str]] = []

    def check(prefix: Path, records: WheelRecords, names: set[str], python: str | None) -> dict[str, list[str]]:
        checked.append(set(names))
        return {}

    monkeypatch.setattr(pypi_install, "differing_files", check)
    said: list[str] = []
    with swapped(record):
        _pypi(target, plan(MIXED), local, say=said.append)
    install, git, uninstall = commands
    again = [install[i + 1] for i, arg in enumerate(install) if arg == "--reinstall-package"]
    assert again == ["idna", "requests"]
    assert checked == [{"idna", "requests"}]
    assert git[-1].startswith("tool @ git+https://")
    assert uninstall[-1:] == ["rich"] and "uninstall" in uninstall
    assert said == ["pypi: installing 2 of 3 locked packages (hashes required; 1 from git at their locked commits), "
                    "removing 1 outside the lock"]  # fmt: skip


def test_a_lockfile_target_differs_from_a_profiles_only_in_its_intent() -> None:
    """A lockfile of anyone's asks what its packages say and nothing more: its kind from its packages, no
    benchmarks, no Homebrew, native Python only, its inputs not tracked; no step branches on a missing profile."""
    conda = LockData(platforms=[PLATFORM], channels=[], sources=[], content_hash={}, packages=LOCKED)
    wheels = LockData(platforms=[PLATFORM], channels=[], sources=[], content_hash={},
                      packages=[p for p in LOCKED if p.manager == "pip"])  # fmt: skip
    intent = Intent.of_lock(conda)
    assert (intent.kind, intent.platforms, intent.acceptance, intent.brew_entries) == ("conda", (PLATFORM,), None, 0)
    assert intent.requires.arm64_native and not intent.inputs_tracked and intent.variant is None
    assert Intent.of_lock(wheels).kind == "venv"


def test_a_new_prefix_installs_every_locked_package_of_each_layer() -> None:
    """No prefix, no drift to read: the work is the whole lock, so the step's line and the check after install
    count every package (it said "all 2 locked packages already installed" for a new conda prefix)."""
    made = plan([], exists=False, stamp=None)
    assert made.conda.install == {"python", "numpy", "zlib"}
    assert made.pypi.install == {"requests", "idna", "tool"} and made.pypi.changing == 3


def test_when_every_wheel_goes_in_again_extras_are_still_removed_and_changed_files_reinstalled() -> None:
    """conda's Python replaced: every wheel is installed again, and the work still removes what is outside the lock
    and reinstalls (past uv's "already installed") what has changed files."""
    made = plan([drifted(Layer.CONDA, DriftKind.CHANGED, "python"), drifted(Layer.PYPI, DriftKind.EXTRA, "rich"),
                 drifted(Layer.PYPI, DriftKind.FILES, "idna")])  # fmt: skip
    assert made.pypi.install == {"requests", "tool"} and made.pypi.reinstall == {"idna"}
    assert made.pypi.remove == {"rich"}
