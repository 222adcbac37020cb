"""Run a benchmark script with some environment's interpreter and judge its document."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ToolFailed
from ..machine.facts import this_host
from ..profile.model import Thresholds
from ..runner import run
from .peaks import Peak, apple_peak, nvidia_peak, this_cpu_peak
from .values import Verdict
from .verdict import judge

FRAMEWORKS = ("torch", "tensorflow", "jax", "mlx")
TIMEOUT_S = 900


def script_path(framework: str) -> Path:
    return Path(str(resources.files("provision").joinpath(f"bench/scripts/bench_{framework}.py")))


def run_script(python: Path, framework: str, device: str, quick: bool, env: dict[str, str] | None) -> dict[str, Any]:
    argv = [str(python), str(script_path(framework)), "--device", device]
    if quick:
        argv.append("--quick")
    result = run(argv, env=env, check=False, timeout=TIMEOUT_S)
    start = result.stdout.find("{")
    try:
        doc: dict[str, Any] = json.loads(result.stdout[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        doc = {}
    if not doc:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise ToolFailed(f"{python}: the {framework} benchmark printed no report (exit {result.returncode}): {tail}")
    return doc


def peak_for(doc: dict[str, Any]) -> Peak | None:
    kind = doc.get("device_kind")
    if kind == "cpu":
        # The static ceiling (cores x clock x FLOP/cycle), never a figure the run itself set.
        return this_cpu_peak()
    if kind == "apple-gpu":
        host = this_host()
        return apple_peak(host.chip, host.gpu_cores)
    if kind == "nvidia-gpu":
        return nvidia_peak(doc.get("device_name"))
    return None


def benchmark(
    python: Path, framework: str, device: str, quick: bool, thresholds: Thresholds, env: dict[str, str] | None = None
) -> Verdict:
    doc = run_script(python, framework, device, quick, env)
    return judge(doc, thresholds, peak_for(doc))
