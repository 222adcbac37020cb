"""The plan: each step of an apply, whether it will act, and why, and for each layer the work by
package: what to fetch, install, reinstall, remove or keep. Pure; --dry-run and `plan` print it, and
the executor walks exactly these lists (nothing downstream derives its own).

The layers are judged by the environment itself (the drift between the lock and what the prefix
holds), never by the stamp; the stamp only says whether the last apply finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..lock.records import LockedPackage
from .drift import Drift, DriftKind, Layer
from .stamp import Stamp


class StepName(Enum):
    PREFLIGHT = "preflight"
    BREW = "brew"
    ENVIRONMENT = "environment"
    PYPI = "pypi"
    ACTIVATION = "activation"
    JUPYTER = "jupyter"
    VERIFY = "verify"


class Action(Enum):
    RUN = "run"
    OK = "ok"  # already satisfied
    SKIP = "skip"  # not for this host, or turned off


# The steps that change the environment; preflight, Jupyter and verify run around a change.
CHANGING = (StepName.BREW, StepName.ENVIRONMENT, StepName.PYPI, StepName.ACTIVATION)


@dataclass(frozen=True)
class Step:
    name: StepName
    action: Action
    reason: str

    @property
    def acts(self) -> bool:
        return self.action is Action.RUN


# Drift a layer's installer repairs by installing the locked package again, even at the same version.
REDO = (DriftKind.CHANGED, DriftKind.FOREIGN, DriftKind.FILES)


@dataclass(frozen=True)
class Work:
    """One layer's work, by package name: what its step installs, reinstalls, removes or leaves."""

    install: frozenset[str] = frozenset()  # locked, not installed
    reinstall: frozenset[str] = frozenset()  # installed, but not as locked (version, installer or files)
    remove: frozenset[str] = frozenset()  # installed outside the lock
    keep: frozenset[str] = frozenset()  # installed outside the lock, left in place (--keep-extras)

    @property
    def changing(self) -> int:
        return len(self.install) + len(self.reinstall)


@dataclass(frozen=True)
class Plan:
    target: str
    prefix: str
    platform: str
    steps: list[Step]
    drift: list[Drift] = field(default_factory=list)
    conda: Work = Work()
    pypi: Work = Work()
    fetch: tuple[LockedPackage, ...] = ()  # the artifacts the acting layers need, in lock order

    @property
    def up_to_date(self) -> bool:
        """Nothing would change: the checks (preflight, verify) run only around a change."""
        return not any(step.acts for step in self.steps if step.name in CHANGING)

    def step(self, name: StepName) -> Step:
        return next(s for s in self.steps if s.name is name)

    def as_dict(self) -> dict[str, Any]:
        steps = [{"name": s.name.value, "action": s.action.value, "reason": s.reason} for s in self.steps]
        return {"target": self.target, "prefix": self.prefix, "platform": self.platform,
                "up_to_date": self.up_to_date, "steps": steps, "drift": [d.as_dict() for d in self.drift]}  # fmt: skip


@dataclass(frozen=True)
class PlanInputs:
    """Everything the plan depends on, gathered by the caller."""

    target: str
    prefix: str
    platform: str
    kind: str
    prefix_exists: bool
    stamp: Stamp | None
    wanted: Stamp
    drift: list[Drift]
    installed_python: str | None  # venv kind: pyvenv.cfg's version
    activation_current: bool
    packages: list[LockedPackage]  # the lock's, for this platform
    on_macos: bool
    brew_entries: int
    use_brew: bool
    benchmarks: list[str]
    verify: bool
    no_verify_reason: str = "--no-verify"
    jupyter: bool = False
    keep_extras: bool = False  # packages outside the lock stay: they are shown, but no step acts on them


def make_plan(i: PlanInputs) -> Plan:
    finished = i.stamp is not None and i.stamp.same_lock(i.wanted)
    steps = [Step(StepName.PREFLIGHT, Action.RUN, "host, requirements, disk and lock freshness are checked first")]
    steps.append(_brew_step(i, finished))
    environment = _environment_step(i)
    steps.append(environment)
    pypi = _pypi_step(i, environment)
    steps.append(pypi)
    if not finished:
        why = "the last apply did not finish" if i.prefix_exists else "new environment"
        steps.append(Step(StepName.ACTIVATION, Action.RUN, f"write activation scripts and the stamp ({why})"))
    elif not i.activation_current:
        steps.append(Step(StepName.ACTIVATION, Action.RUN, "activation scripts differ from the profile's env"))
    else:
        steps.append(Step(StepName.ACTIVATION, Action.OK, "activation variables as the profile says"))
    if i.jupyter:
        steps.append(Step(StepName.JUPYTER, Action.RUN, "register the Jupyter kernel"))
    else:
        steps.append(Step(StepName.JUPYTER, Action.SKIP, "not asked (--jupyter)"))
    if not i.benchmarks:
        steps.append(Step(StepName.VERIFY, Action.SKIP, "the profile declares no acceptance benchmark"))
    elif not i.verify:
        steps.append(Step(StepName.VERIFY, Action.SKIP, i.no_verify_reason))
    else:
        steps.append(Step(StepName.VERIFY, Action.RUN, f"acceptance: {', '.join(i.benchmarks)} (after a change)"))
    acting = {Layer.CONDA: environment.acts, Layer.PYPI: pypi.acts}
    fetch = tuple(p for p in i.packages if acting[_LAYER_OF[p.manager]] and p.git_commit is None)
    conda = _work(i, Layer.CONDA, everything=not i.prefix_exists)
    wheels = _work(i, Layer.PYPI, everything=_python_moved(i, environment))
    return Plan(i.target, i.prefix, i.platform, steps, list(i.drift), conda, wheels, fetch)


_LAYER_OF = {"conda": Layer.CONDA, "pip": Layer.PYPI}


def _work(i: PlanInputs, layer: Layer, everything: bool) -> Work:
    """The layer's work by name. `everything`: the layer goes in whole (a new prefix; for wheels, also a venv
    made again or a conda Python replaced), so each of its locked packages is installed, whatever drift said."""
    def named(*kinds: DriftKind) -> frozenset[str]:
        return frozenset(d.name for d in i.drift if d.layer is layer and d.kind in kinds)

    extras, none, redo = named(DriftKind.EXTRA), frozenset[str](), named(*REDO)
    locked = frozenset(p.name for p in i.packages if _LAYER_OF[p.manager] is layer)
    return Work(install=(locked - redo) if everything else named(DriftKind.MISSING), reinstall=redo,
                remove=none if i.keep_extras else extras, keep=extras if i.keep_extras else none)  # fmt: skip


def _brew_step(i: PlanInputs, finished: bool) -> Step:
    if not i.on_macos:
        return Step(StepName.BREW, Action.SKIP, "Homebrew runs on macOS only")
    if not i.brew_entries:
        return Step(StepName.BREW, Action.SKIP, "the profile has no Homebrew entries")
    if not i.use_brew:
        return Step(StepName.BREW, Action.SKIP, "--no-brew")
    if finished and i.stamp is not None and i.stamp.brew == i.wanted.brew:
        return Step(StepName.BREW, Action.OK, "Brewfile unchanged since the last successful apply")
    return Step(StepName.BREW, Action.RUN, f"`brew bundle check` decides for {i.brew_entries} entries")


def _lines(drift: list[Drift]) -> str:
    shown = "; ".join(d.line() for d in drift[:3])
    return shown + (f"; and {len(drift) - 3} more" if len(drift) > 3 else "")


def _layer(i: PlanInputs, layer: Layer) -> list[Drift]:
    """The differences in `layer` that a step must repair (extras only without --keep-extras)."""
    return [d for d in i.drift if d.layer is layer and not (i.keep_extras and d.kind is DriftKind.EXTRA)]


def _count(i: PlanInputs, manager: str) -> int:
    return sum(p.manager == manager for p in i.packages)


def _environment_step(i: PlanInputs) -> Step:
    wanted = i.wanted.python or "?"
    if i.kind == "venv":
        if not i.prefix_exists:
            return Step(StepName.ENVIRONMENT, Action.RUN, f"create a venv (Python {wanted}) with uv")
        if not _same_python(i.installed_python, wanted):
            found = i.installed_python or "none"
            why = f"re-create the venv: Python {found} installed, the lock has {wanted}"
            return Step(StepName.ENVIRONMENT, Action.RUN, why)
        return Step(StepName.ENVIRONMENT, Action.OK, f"venv with Python {i.installed_python}")
    if not i.prefix_exists:
        return Step(StepName.ENVIRONMENT, Action.RUN, f"create: link {_count(i, 'conda')} conda packages")
    drift = _layer(i, Layer.CONDA)
    if drift:
        return Step(StepName.ENVIRONMENT, Action.RUN, f"repair by transaction: {_lines(drift)}")
    return Step(StepName.ENVIRONMENT, Action.OK, f"{_count(i, 'conda')} conda packages match the lock")


def _pypi_step(i: PlanInputs, environment: Step) -> Step:
    drift = _layer(i, Layer.PYPI)
    if drift:
        return Step(StepName.PYPI, Action.RUN, f"repair: {_lines(drift)}")
    wheels = _count(i, "pip")
    if _python_moved(i, environment) and wheels:
        return Step(StepName.PYPI, Action.RUN, f"install {wheels} locked wheels (hashes required)")
    if not wheels:
        return Step(StepName.PYPI, Action.OK, "no wheels locked, none installed outside the lock")
    return Step(StepName.PYPI, Action.OK, f"{wheels} wheels match the lock")


def _python_moved(i: PlanInputs, environment: Step) -> bool:
    """The environment step gives the wheels a new interpreter (a new prefix, a venv made again, conda's Python
    replaced): every wheel goes in again."""
    return environment.acts and (
        i.kind == "venv" or any(d.name == "python" for d in _layer(i, Layer.CONDA)) or not i.prefix_exists
    )


def _same_python(installed: str | None, wanted: str) -> bool:
    """A venv of 3.11.7 satisfies a lock for 3.11 (or 3.11.7); another minor version does not."""
    if installed is None:
        return False
    return installed == wanted or installed.startswith(wanted + ".") or wanted.startswith(installed + ".")
