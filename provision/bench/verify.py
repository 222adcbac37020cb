"""`provision verify`: run a profile's acceptance benchmarks in its environment."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..apply.activation import activated_environment
from ..apply.pypi_install import env_python
from ..apply.target import Target
from ..errors import ProvisionError
from ..model import Thresholds
from . import report
from .run import benchmark
from .values import Status, Verdict, overall


def machine_identity() -> dict[str, Any]:
    """Who ran this report, for `provision report` across a team's machines."""
    import socket

    from ..host import this_host

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


def verify_target(target: Target, device: str | None, quick: bool, report_dir: Path | None, show: bool) -> Acceptance:
    profile = target.profile
    if profile is None or not profile.acceptance.benchmarks:
        raise ProvisionError(f"{target.name}: no acceptance benchmarks declared (acceptance.benchmarks).")
    python = env_python(target.prefix)
    if not python.exists():
        raise ProvisionError(f"{target.prefix}: no environment here; run `{target.apply_command}` first.")
    wanted = device or profile.acceptance.device
    env = activated_environment(target.prefix, target.env, kind=target.kind)
    results = []
    for framework in profile.acceptance.benchmarks:
        if show:  # a line as each run starts, terminal or not: a run takes tens of seconds
            print(f"acceptance: {framework} on {wanted} in {target.prefix} (about {15 if quick else 30} s)",
                  file=sys.stderr, flush=True)  # fmt: skip
        results.append(benchmark(python, framework, wanted, quick, profile.acceptance.thresholds or Thresholds(), env))
    files: list[str] = []
    if show:
        report.show(results, f"{target.label} ({target.prefix})")
    if report_dir is not None:
        from ..apply.inputs import environment_fingerprint

        meta = {"profile": target.name, "variant": target.variant, "platform": target.platform,
                "prefix": str(target.prefix),
                "machine": machine_identity(), "environment": environment_fingerprint(target)}  # fmt: skip
        files = [str(p) for p in report.save(results, report_dir, target.name, meta)]
    return Acceptance(results, files)
