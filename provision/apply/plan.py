"""The plan: each step of an apply, whether it will act, and why. Pure; --dry-run prints it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .stamp import Stamp

CHANGING = ("brew", "environment", "pypi", "activation")


@dataclass(frozen=True)
class Step:
    name: str
    action: str  # "run", "ok" (already satisfied) or "skip" (not for this host or turned off)
    reason: str

    @property
    def acts(self) -> bool:
        return self.action == "run"


@dataclass(frozen=True)
class Plan:
    target: str
    prefix: str
    platform: str
    steps: list[Step]

    @property
    def up_to_date(self) -> bool:
        """Nothing would change: the checks (preflight, verify) run only around a change."""
        return not any(step.acts for step in self.steps if step.name in CHANGING)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "prefix": self.prefix, "platform": self.platform,
            "up_to_date": self.up_to_date, "steps": [asdict(s) for s in self.steps],
        }  # fmt: skip


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
    conda_count: int
    pypi_count: int
    on_macos: bool
    brew_entries: int
    use_brew: bool
    benchmarks: list[str]
    verify: bool
    no_verify_reason: str = "--no-verify"


def make_plan(i: PlanInputs) -> Plan:
    old = i.stamp if i.stamp and (i.stamp.profile, i.stamp.platform) == (i.wanted.profile, i.wanted.platform) else None
    steps = [Step("preflight", "run", "host, requirements, disk and lock freshness are checked first")]
    if not i.on_macos:
        steps.append(Step("brew", "skip", "Homebrew runs on macOS only"))
    elif not i.brew_entries:
        steps.append(Step("brew", "skip", "the profile has no Homebrew entries"))
    elif not i.use_brew:
        steps.append(Step("brew", "skip", "--no-brew"))
    elif old and old.brew == i.wanted.brew:
        steps.append(Step("brew", "ok", "Brewfile unchanged since the last successful apply"))
    else:
        steps.append(Step("brew", "run", f"`brew bundle check` decides for {i.brew_entries} entries"))
    steps.append(_layer_step(i, old))
    steps.append(_pypi_step(i, old))
    if old and old.activation == i.wanted.activation:
        steps.append(Step("activation", "ok", "activation variables unchanged"))
    else:
        steps.append(Step("activation", "run", "write activation scripts"))
    if not i.benchmarks:
        steps.append(Step("verify", "skip", "the profile declares no acceptance benchmark"))
    elif not i.verify:
        steps.append(Step("verify", "skip", i.no_verify_reason))
    else:
        steps.append(Step("verify", "run", f"acceptance: {', '.join(i.benchmarks)}"))
    return Plan(i.target, i.prefix, i.platform, steps)


def _layer_step(i: PlanInputs, old: Stamp | None) -> Step:
    if i.kind == "venv":
        if not i.prefix_exists:
            return Step("environment", "run", f"create a venv (Python {i.wanted.python}) with uv")
        if old and old.python == i.wanted.python:
            return Step("environment", "ok", f"venv with Python {i.wanted.python}")
        return Step("environment", "run", "re-create the venv (no record of a completed apply)")
    if not i.prefix_exists:
        return Step("environment", "run", f"create: link {i.conda_count} conda packages")
    if old and old.conda == i.wanted.conda:
        return Step("environment", "ok", f"{i.conda_count} conda packages match the lock")
    why = "the lock changed" if old else "no record of a completed apply"
    return Step("environment", "run", f"update by transaction: {why}")


def _pypi_step(i: PlanInputs, old: Stamp | None) -> Step:
    if old and old.pypi == i.wanted.pypi and i.prefix_exists and _layer_ok(i, old):
        return Step("pypi", "ok", f"{i.pypi_count} wheels match the lock")
    if not i.pypi_count:
        return Step("pypi", "run", "no wheels locked; remove any this layer installed before")
    return Step("pypi", "run", f"install {i.pypi_count} locked wheels (hashes required), remove the rest")


def _layer_ok(i: PlanInputs, old: Stamp) -> bool:
    return old.conda == i.wanted.conda and old.python == i.wanted.python
