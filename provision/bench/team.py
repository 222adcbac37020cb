"""`provision report`: many machines' verify reports in one table and one chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import LocatedError, ProvisionError
from .values import REPORT_SCHEMA, Status, Verdict

NO_REPORT = "NO REPORT"  # the verdict of a node a job was given that wrote nothing
# The row of such a node: every column `rows` fills, blank.
NOTHING_REPORTED: dict[str, Any] = {
    "machine": "?", "chip": "?", "profile": None, "framework": "-", "device": "-", "verdict": NO_REPORT,
    "fp32_tflops": None, "fraction_of_peak": None, "created": None, "environment": "?", "fingerprint": None,
}  # fmt: skip


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
    if not reports and not any(expected_nodes(p) for p in paths):
        raise ProvisionError(
            f"no verify-*.json reports in {', '.join(map(str, paths))}; run `provision verify --report DIR`."
        )
    return reports


def expected_nodes(folder: Path) -> list[str]:
    """The nodes a Slurm job was given (`expected-nodes.txt`, written by the exported batch script).
    The file is untrusted like any facts folder: regular, small, one valid host name per line."""
    from .. import grammar
    from ..export import EXPECTED_NODES
    from ..files import read_untrusted_text

    path = folder / EXPECTED_NODES
    if not folder.is_dir() or not path.exists():
        return []
    text = read_untrusted_text(path, 1 << 20, str(path), "make it a file of node names, one per line")
    nodes = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not grammar.full(grammar.HOST_NAME, line.strip()):
            raise LocatedError(str(path), f"{line.strip()[:40]!r} is not a host name", "one node name per line",
                               number)  # fmt: skip
        nodes += [line.strip()] if line.strip() else []
    return nodes


def unreported(paths: list[Path], reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row for every expected node with no report in its folder (FOLDER/NODE/verify-*.json)."""
    seen = {Path(r["_file"]).resolve().parent for r in reports}
    out = []
    for folder in paths:
        for node in expected_nodes(folder):
            if (folder / node).resolve() not in seen:
                out.append({**NOTHING_REPORTED, "machine": node})
    return out


def problems(table: list[dict[str, Any]]) -> list[str]:
    """One line per machine that failed or never reported, for the summary and the exit code."""
    from ..grammar import printable

    failed = sorted(
        {printable(f"{r['machine']} ({r['framework']})") for r in table if r["verdict"] == Status.FAIL.value}
    )
    missing = sorted({printable(r["machine"]) for r in table if r["verdict"] == NO_REPORT})
    return ([f"FAIL on {', '.join(failed)}"] if failed else []) + (
        [f"never reported: {', '.join(missing)}"] if missing else []
    )


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
            counts.setdefault(str(_environment_name(report)), Counter())[lock] += 1
    return {profile: counter.most_common(1)[0][0] for profile, counter in counts.items()}


def _environment_name(report: dict[str, Any]) -> str | None:
    """`torch-linux (cuda)`: the profile and, for a profile with variants, the variant the node installed
    (the nodes of one variant share a lock; a CPU node is not "other lock" beside the GPU nodes)."""
    from ..grammar import VARIANT_NAME, full

    name = report.get("profile") or report.get("name")
    variant = report.get("variant")
    return f"{name} ({variant})" if name is not None and full(VARIANT_NAME, variant) else name


def rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    usual = _usual_locks(reports)
    for report in reports:
        machine = report.get("machine") or {}
        state = environment_state(report, usual.get(str(_environment_name(report))))
        for verdict in report["results"]:
            best = verdict.best("float32")
            out.append({
                "machine": machine.get("hostname") or Path(report["_file"]).parent.name,
                "chip": machine.get("chip") or verdict.device_name or "?",
                "profile": _environment_name(report),
                "framework": verdict.framework,
                "device": verdict.device,
                "verdict": verdict.status.value,
                "fp32_tflops": best.tflops if best else None,
                "fraction_of_peak": verdict.fraction("float32", best.n) if best else None,
                "created": report.get("created"),
                "environment": state,
                "fingerprint": ((report.get("environment") or {}).get("installed_sha256") or "")[:12] or None,
            })  # fmt: skip
    return sorted(out, key=lambda r: (r["profile"] or "", r["fp32_tflops"] or 0))


def show(table: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..grammar import printable

    view = Table(title="Team acceptance results (fp32 GEMM at the largest size measured)", title_justify="left")
    for column in ("machine", "chip", "profile", "framework", "device", "verdict", "environment", "installed",
                   "fp32 TFLOPS", "of peak"):  # fmt: skip
        view.add_column(column, justify="right" if column in ("fp32 TFLOPS", "of peak") else "left")
    for row in table:
        style = "green" if row["verdict"] == Status.PASS.value else "bold red"
        # Each report is a node's word: its text is shown as text, never as rich markup or terminal codes.
        text = {k: escape(printable(str(v))) if v is not None else "-" for k, v in row.items()}
        view.add_row(text["machine"], text["chip"], text["profile"], text["framework"], text["device"],
                     f"[{style}]{text['verdict']}[/]", _marked(text["environment"]), text["fingerprint"],
                     f"{row['fp32_tflops']:.3f}" if row["fp32_tflops"] else "-",
                     f"{row['fraction_of_peak']:.0%}" if row["fraction_of_peak"] else "-")  # fmt: skip
    console = Console()
    # Piped into a CI log, the table keeps its columns instead of wrapping at 80.
    (console if console.is_terminal else Console(width=160)).print(view)


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
