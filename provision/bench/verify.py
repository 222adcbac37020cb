"""`provision verify`: run a profile's acceptance benchmarks in its environment."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProvisionError
from ..profile.model import Acceptance as AcceptanceSpec  # the profile's section; Acceptance here is the outcome
from ..profile.model import Thresholds
from . import report
from .run import benchmark
from .values import Status, Verdict, overall


def machine_identity() -> dict[str, Any]:
    """Who ran this report, for `provision report` across a team's machines."""
    import socket

    from ..machine.facts import this_host

    host = this_host()
    return {"hostname": socket.gethostname(), "chip": host.chip or host.cpu_model, "memory_bytes": host.memory_bytes,
            "system": host.system, "macos": host.macos, "gpus": [g.name for g in host.gpus]}  # fmt: skip


@dataclass(frozen=True)
class Acceptance:
    """The verdicts of one profile's benchmarks, and the report files written for them."""

    verdicts: list[Verdict]
    files: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return overall(self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.status.value, "results": [v.to_json() for v in self.verdicts], "files": self.files}


@dataclass(frozen=True)
class Subject:
    """The installed environment a check runs in, handed over by the command that composes apply and bench:
    bench reads no lock, stamp or prefix layout of its own."""

    name: str
    label: str  # as messages name it: `linux-cpu`, or `torch-linux (cuda)`
    prefix: Path
    python: Path  # the environment's interpreter
    env: dict[str, str]  # this process's environment as it is inside the activated prefix
    acceptance: AcceptanceSpec | None  # the profile's; None for a lockfile's environment
    apply_command: str  # what makes the environment, for the advice when it is missing
    # What a saved report records besides the machine (profile, variant, platform, prefix, and how the
    # environment compares with its lock); asked only when a report is written.
    report_meta: Callable[[], dict[str, Any]] = dict

    def benchmarks(self) -> list[str]:
        return list(self.acceptance.benchmarks) if self.acceptance is not None else []

    def require_python(self) -> Path:
        if not self.python.exists():
            raise ProvisionError(f"{self.prefix}: no environment here; run `{self.apply_command}` first.")
        return self.python


QUICK_VARIABLE = "PROVISION_VERIFY"  # =quick: every acceptance run is the short one (a fleet's roll call)


def quick_asked(flag: bool) -> bool:
    """--quick, or PROVISION_VERIFY=quick in the environment: for a container's command or a job's steps,
    where an option cannot be added to each call."""
    import os

    return flag or os.environ.get(QUICK_VARIABLE) == "quick"


def verify_target(subject: Subject, device: str | None, quick: bool, report_dir: Path | None, show: bool) -> Acceptance:
    acceptance = subject.acceptance
    if acceptance is None or not acceptance.benchmarks:
        raise ProvisionError(f"{subject.name}: no acceptance benchmarks declared (acceptance.benchmarks).")
    python = subject.require_python()
    wanted = device or acceptance.device
    quick = quick_asked(quick)
    results = []
    for framework in acceptance.benchmarks:
        if show:  # a line as each run starts, terminal or not: a run takes tens of seconds
            print(f"acceptance: {framework} on {wanted} in {subject.prefix} (about {15 if quick else 30} s)",
                  file=sys.stderr, flush=True)  # fmt: skip
        results.append(benchmark(python, framework, wanted, quick, acceptance.thresholds or Thresholds(), subject.env))
    files: list[str] = []
    if show:
        report.show(results, f"{subject.label} ({subject.prefix})")
    if report_dir is not None:
        meta = {**subject.report_meta(), "machine": machine_identity()}
        files = [str(p) for p in report.save(results, report_dir, subject.name, meta)]
    return Acceptance(results, files)
