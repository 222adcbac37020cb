"""`provision report`: many machines' verify reports in one table and one chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ProvisionError
from .values import REPORT_SCHEMA, Status, Verdict


def load_reports(paths: list[Path]) -> list[dict[str, Any]]:
    """verify-*.json files, given directly or found in folders."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("**/verify-*.json")) if path.is_dir() else [path]
    reports = []
    for file in files:
        try:
            report = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise ProvisionError(f"{file}: not a readable verify report ({exc}).") from None
        if report.get("schema") not in (1, REPORT_SCHEMA) or "results" not in report:
            raise ProvisionError(f"{file}: not a provision verify report (schema 1 or {REPORT_SCHEMA} with results).")
        try:
            report["results"] = [Verdict.from_json(r) for r in report["results"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProvisionError(f"{file}: a result is malformed ({type(exc).__name__}: {exc}).") from None
        report["_file"] = str(file)
        reports.append(report)
    if not reports:
        raise ProvisionError(
            f"no verify-*.json reports in {', '.join(map(str, paths))}; run `provision verify --report DIR`."
        )
    return reports


def environment_state(report: dict[str, Any], usual_lock: str | None) -> str:
    """'exact', 'differs (N)', 'other lock' or '?' (a report written before provision recorded it)."""
    environment = report.get("environment") or {}
    if not environment:
        return "?"
    if usual_lock and environment.get("lock_sha256") != usual_lock:
        return "other lock"
    if environment.get("matches_lock"):
        return "exact"
    return f"differs ({len(environment.get('differences') or [])})"


def _usual_locks(reports: list[dict[str, Any]]) -> dict[str, str]:
    """Per profile, the lock most machines report (the one the team claims)."""
    from collections import Counter

    counts: dict[str, Counter[str]] = {}
    for report in reports:
        lock = (report.get("environment") or {}).get("lock_sha256")
        if lock:
            counts.setdefault(str(report.get("profile") or report.get("name")), Counter())[lock] += 1
    return {profile: counter.most_common(1)[0][0] for profile, counter in counts.items()}


def rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    usual = _usual_locks(reports)
    for report in reports:
        machine = report.get("machine") or {}
        state = environment_state(report, usual.get(str(report.get("profile") or report.get("name"))))
        for verdict in report["results"]:
            best = verdict.best("float32")
            out.append({
                "machine": machine.get("hostname") or Path(report["_file"]).parent.name,
                "chip": machine.get("chip") or verdict.device_name or "?",
                "profile": report.get("profile") or report.get("name"),
                "framework": verdict.framework,
                "device": verdict.device,
                "verdict": verdict.status.value,
                "fp32_tflops": best.tflops if best else None,
                "fraction_of_peak": verdict.fraction("float32", best.n) if best else None,
                "created": report.get("created"),
                "environment": state,
            })  # fmt: skip
    return sorted(out, key=lambda r: (r["profile"] or "", r["fp32_tflops"] or 0))


def show(table: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    view = Table(title="Team acceptance results (fp32 GEMM at the largest size measured)", title_justify="left")
    for column in ("machine", "chip", "profile", "framework", "device", "verdict", "environment", "fp32 TFLOPS",
                   "of peak"):  # fmt: skip
        view.add_column(column, justify="right" if column in ("fp32 TFLOPS", "of peak") else "left")
    for row in table:
        style = "green" if row["verdict"] == Status.PASS.value else "bold red"
        view.add_row(row["machine"], row["chip"], row["profile"], row["framework"], row["device"],
                     f"[{style}]{row['verdict']}[/]", _marked(row["environment"]),
                     f"{row['fp32_tflops']:.3f}" if row["fp32_tflops"] else "-",
                     f"{row['fraction_of_peak']:.0%}" if row["fraction_of_peak"] else "-")  # fmt: skip
    Console().print(view)


def _marked(state: str) -> str:
    return state if state in ("exact", "?") else f"[bold red]{state}[/]"


def needs_log_scale(values: list[float]) -> bool:
    """Machines more than 10x apart are read on a log axis."""
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) > 10 * min(positive)


def chart(table: list[dict[str, Any]], path: Path) -> None:
    import warnings

    import matplotlib

    warnings.filterwarnings("ignore", module="matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['machine']}\n{r['chip']}\n{r['profile']} ({r['framework']}/{r['device']})" for r in table]
    values = [r["fp32_tflops"] or 0 for r in table]
    colors = ["tab:green" if r["verdict"] == Status.PASS.value else "tab:red" for r in table]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.7 * len(table)))
    bars = ax.barh(range(len(table)), values, color=colors)
    for bar, row in zip(bars, table, strict=True):
        note = row["verdict"] + (f", {row['fraction_of_peak']:.0%} of peak" if row["fraction_of_peak"] else "")
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f"  {note}", va="center", fontsize=8)
    ax.set_yticks(range(len(table)), labels, fontsize=7)
    positive = [v for v in values if v > 0]
    if needs_log_scale(values):
        # A laptop CPU beside an H200: on a linear axis the small bars vanish.
        ax.set_xscale("log")
        ax.set_xlim(min(positive) / 2, max(positive) * 4)
        ax.set_xlabel("fp32 GEMM TFLOPS (decimal, log scale); green PASS, red FAIL")
    else:
        ax.set_xlim(0, max(values or [1]) * 1.45)
        ax.set_xlabel("fp32 GEMM TFLOPS (decimal); green PASS, red FAIL")
    ax.set_title("Acceptance across the team's machines")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
