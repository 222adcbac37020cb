"""Show and save verdicts: a rich table (verdict first), a JSON report, and a PNG plot."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

from ..files import write_atomic
from .values import REPORT_SCHEMA, Check, Gate, Measurement, Status, Verdict, overall

STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.SKIP: "yellow"}
KIND_WORDS = {"cpu": "CPU", "apple-gpu": "GPU", "nvidia-gpu": "GPU"}


def proof(verdict: Verdict) -> str:
    """What the run proved, in words: where the matmul ran, how exact it was, how fast against the peak;
    or, for a FAIL, what failed."""
    failed = [f"{c.name}: {c.reason}" for c in verdict.checks if c.status is Status.FAIL]
    failed += [g.reason for g in verdict.gates if g.status is Status.FAIL and g.name != "checks"]
    if failed:
        return f"{verdict.framework} FAILED on {verdict.device}: " + "; ".join(failed)
    name = verdict.device_name if verdict.device_name not in (None, verdict.device) else ""
    where = " ".join(part for part in ("the", name, KIND_WORDS.get(verdict.device_kind, verdict.device)) if part)
    parts = [f"{verdict.framework}: matmul ran on {where}"]
    correctness = verdict.check("correctness-float32")
    if correctness is not None and correctness.values.get("worst") is not None:
        parts.append(f"matched float64 to {correctness.values['worst']:.0e}")
    best = verdict.best("float32")
    calibration = (verdict.document or {}).get("calibration") if verdict.device_kind == "cpu" else None
    if best is not None and isinstance(calibration, dict) and calibration.get("tflops"):
        # A CPU is measured against references from outside the run: its BLAS and its static ceiling.
        ceiling = verdict.peak.tflops.get("float32") if verdict.peak else None
        parts.append(f"reached {best.tflops:.3g} TFLOPS = {best.tflops / calibration['tflops']:.0%} of its BLAS "
                     f"({calibration['tflops']:.3g})" + (f", {best.tflops / ceiling:.0%} of the static ceiling "
                                                         f"({ceiling:.3g})" if ceiling else ""))  # fmt: skip
    elif best is not None:
        peak = verdict.peak.tflops.get("float32") if verdict.peak else None
        reached = f"reached {best.tflops:.3g}"
        parts.append(f"{reached} of {peak:.3g} TFLOPS ({best.tflops / peak:.0%})" if peak else f"{reached} TFLOPS")
    return ", ".join(parts)


def show(verdicts: list[Verdict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)  # a verdict line is never cut mid-sentence when piped
    status = overall(verdicts)
    console.print(f"[{STYLE[status]}]{status.value}[/] {title}")
    for verdict in verdicts:
        console.print(proof(verdict), highlight=False)
    for verdict in verdicts:
        head = f"{verdict.framework} on {verdict.device} ({verdict.device_name or verdict.device_kind})"
        table = Table(title=f"{head}: [{STYLE[verdict.status]}]{verdict.status.value}[/]", title_justify="left")
        table.add_column("check")
        table.add_column("result")
        table.add_column("details", overflow="fold")
        rows: list[Gate | Check] = [*verdict.gates, *verdict.checks]
        for row in rows:
            table.add_row(row.name, f"[{STYLE[row.status]}]{row.status.value}[/]", row.reason)
        console.print(table)
        if not verdict.measurements:
            continue  # nothing was measured (e.g. the device was absent): no empty table
        rates = Table(title="GEMM throughput (median of samples, decimal TFLOPS)", title_justify="left")
        yardstick = "of ceiling" if verdict.peak and verdict.peak.estimate else "of peak"
        for column in ("device", "dtype", "n", "TFLOPS", "spread", yardstick):
            rates.add_column(column, justify="right" if column not in ("device", "dtype") else "left")
        for m in verdict.measurements:
            fraction = verdict.fraction(m.dtype, m.n) if m.device == verdict.device else None
            rates.add_row(m.device, m.dtype, str(m.n), f"{m.tflops:.3f}", f"{m.tflops_min:.3f}-{m.tflops_max:.3f}",
                          f"{fraction:.0%}" if fraction else "")  # fmt: skip
        console.print(rates)
        if verdict.peak:
            console.print(f"{'static ceiling' if verdict.peak.estimate else 'peak'}: {verdict.peak.source}")


def save(verdicts: list[Verdict], folder: Path, name: str, meta: dict[str, Any]) -> list[Path]:
    """verify-<name>.json (report schema 2) and verify-<name>.png in `folder`; returns the paths written. A node
    whose packed provision has no matplotlib (a team-side package) writes the JSON, which is what `provision
    report` reads; the team's chart is drawn where the reports are gathered."""
    folder.mkdir(parents=True, exist_ok=True)
    status = overall(verdicts)
    report = {"schema": REPORT_SCHEMA, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "verdict": status.value, **meta, "results": [v.to_json() for v in verdicts]}  # fmt: skip
    json_path = folder / f"verify-{name}.json"
    write_atomic(json_path, json.dumps(report, indent=1, default=str) + "\n")
    if importlib.util.find_spec("matplotlib") is None:
        return [json_path]
    png_path = folder / f"verify-{name}.png"
    plot(verdicts, png_path, f"{name}: {status.value}")
    return [json_path, png_path]


def plot(verdicts: list[Verdict], path: Path, title: str) -> None:
    import warnings

    import matplotlib

    warnings.filterwarnings("ignore", module="matplotlib")  # font and layout notices are not the user's business
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(verdicts), figsize=(6.4 * len(verdicts), 4.4), squeeze=False)
    for ax, verdict in zip(axes[0], verdicts, strict=True):
        rows = verdict.measurements
        for (device, dtype), marker in _series(rows):
            points = sorted((m.n, m.tflops, m.tflops_min, m.tflops_max) for m in rows
                            if (m.device, m.dtype) == (device, dtype))  # fmt: skip
            sizes = [p[0] for p in points]
            medians = [p[1] for p in points]
            low = [p[1] - p[2] for p in points]
            high = [p[3] - p[1] for p in points]
            ax.errorbar(sizes, medians, yerr=[low, high], marker=marker, capsize=3, label=f"{device} {dtype}")
        peak = verdict.peak
        if peak and "float32" in peak.tflops:
            label = f"fp32 peak {peak.tflops['float32']:.2f}" + (" (estimate)" if peak.estimate else "")
            ax.axhline(peak.tflops["float32"], color="grey", linestyle="--", label=label)
        ax.set_xscale("log", base=2)
        sizes_all = sorted({m.n for m in rows})
        ax.set_xticks(sizes_all, [str(n) for n in sizes_all])
        ax.set_ylim(bottom=0)  # fractions of peak read honestly only from a zero baseline
        ax.set_xlabel("matrix size n (n x n x n GEMM)")
        ax.set_ylabel("TFLOPS (decimal)")
        ax.set_title(f"{verdict.framework} on {verdict.device}: {verdict.status.value}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _series(rows: tuple[Measurement, ...]) -> list[tuple[tuple[str, str], str]]:
    keys = sorted({(m.device, m.dtype) for m in rows})
    markers = "osD^v<>"
    return [(key, markers[i % len(markers)]) for i, key in enumerate(keys)]
