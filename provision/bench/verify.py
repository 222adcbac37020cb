"""`provision verify`: run a profile's acceptance benchmarks in its environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..apply.activation import activated_environment
from ..apply.pypi_install import env_python
from ..apply.target import Target
from ..errors import ProvisionError
from ..model import Thresholds
from . import report
from .run import benchmark


def machine_identity() -> dict[str, Any]:
    """Who ran this report, for `provision report` across a team's machines."""
    import socket

    from ..host import this_host

    host = this_host()
    return {"hostname": socket.gethostname(), "chip": host.chip or host.cpu_model, "memory_bytes": host.memory_bytes,
            "system": host.system, "macos": host.macos, "gpus": [g.name for g in host.gpus]}  # fmt: skip


def verify_target(
    target: Target, device: str | None, quick: bool, report_dir: Path | None, show: bool
) -> dict[str, Any]:
    profile = target.profile
    if profile is None or not profile.acceptance.benchmarks:
        raise ProvisionError(f"{target.name}: no acceptance benchmarks declared (acceptance.benchmarks).")
    python = env_python(target.prefix)
    if not python.exists():
        raise ProvisionError(f"{target.prefix}: no environment here; run `provision apply {target.name}` first.")
    wanted = device or profile.acceptance.device
    env = activated_environment(target.prefix, target.env)
    results = [
        benchmark(python, framework, wanted, quick, profile.acceptance.thresholds or Thresholds(), env)
        for framework in profile.acceptance.benchmarks
    ]
    summary: dict[str, Any] = {"verdict": report.overall_verdict(results), "results": results}
    if show:
        report.show(results, f"{target.name} ({target.prefix})")
    if report_dir is not None:
        from ..apply.inputs import environment_fingerprint

        meta = {"profile": target.name, "platform": target.platform, "prefix": str(target.prefix),
                "machine": machine_identity(), "environment": environment_fingerprint(target)}  # fmt: skip
        summary["files"] = [str(p) for p in report.save(results, report_dir, target.name, meta)]
    return summary
