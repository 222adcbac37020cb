"""Show and save verdicts: a rich table (verdict first), a JSON report, and a PNG plot."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..files import write_atomic

STYLE = {"PASS": "bold green", "FAIL": "bold red", "SKIP": "yellow"}


KIND_WORDS = {"cpu": "CPU", "apple-gpu": "GPU", "nvidia-gpu": "GPU"}


def proof(result: dict[str, Any]) -> str:
    """What the run proved, in words: where the matmul ran, how exact it was, how fast against the peak;
    or, for a FAIL, what failed."""
    doc = result["document"]
    checks = {c["name"]: c for c in doc.get("checks", [])}
    failed = [g["reason"] for g in result["gates"] if g["status"] == "FAIL" and g["name"] != "checks"]
    failed = [f"{c['name']}: {c['reason']}" for c in doc.get("checks", []) if c["status"] == "FAIL"] + failed
    if failed:
        return f"{result['framework']} FAILED on {result['device']}: " + "; ".join(failed)
    where = f"the {result.get('device_name') or result['device']} {KIND_WORDS.get(result['device_kind'], '')}".strip()
    parts = [f"{result['framework']}: matmul ran on {where}"]
    worst = (checks.get("correctness-float32") or {}).get("values", {}).get("worst")
    if worst is not None:
        parts.append(f"matched float64 to {worst:.0e}")
    rows = [r for r in doc.get("throughput", []) if r["device"] == result["device"] and r["dtype"] == "float32"]
    if rows:
        best = max(rows, key=lambda r: r["n"])
        peak = (result.get("peak") or {}).get("tflops", {}).get("float32")
        reached = f"reached {best['tflops']:.3g}"
        parts.append(f"{reached} of {peak:.3g} TFLOPS ({best['tflops'] / peak:.0%})" if peak else f"{reached} TFLOPS")
    return ", ".join(parts)


def show(results: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    overall = overall_verdict(results)
    console.print(f"[{STYLE[overall]}]{overall}[/] {title}")
    for result in results:
        console.print(proof(result), highlight=False)
    for result in results:
        doc = result["document"]
        head = f"{result['framework']} on {result['device']} ({result.get('device_name') or result['device_kind']})"
        table = Table(title=f"{head}: [{STYLE[result['verdict']]}]{result['verdict']}[/]", title_justify="left")
        table.add_column("check")
        table.add_column("result")
        table.add_column("details", overflow="fold")
        for gate in result["gates"]:
            table.add_row(gate["name"], f"[{STYLE[gate['status']]}]{gate['status']}[/]", gate["reason"])
        for check in doc.get("checks", []):
            table.add_row(check["name"], f"[{STYLE.get(check['status'], '')}]{check['status']}[/]", check["reason"])
        console.print(table)
        if not doc.get("throughput"):
            continue  # nothing was measured (e.g. the device was absent): no empty table
        rates = Table(title="GEMM throughput (median of samples, decimal TFLOPS)", title_justify="left")
        for column in ("device", "dtype", "n", "TFLOPS", "spread", "of peak"):
            rates.add_column(column, justify="right" if column not in ("device", "dtype") else "left")
        for row in doc.get("throughput", []):
            fraction = (
                result["fraction_of_peak"].get(f"{row['dtype']}@{row['n']}")
                if row["device"] == result["device"]
                else None
            )
            rates.add_row(
                row["device"],
                row["dtype"],
                str(row["n"]),
                f"{row['tflops']:.3f}",
                f"{row['tflops_min']:.3f}-{row['tflops_max']:.3f}",
                f"{fraction:.0%}" if fraction else "",
            )
        console.print(rates)
        if result.get("peak"):
            console.print(f"peak: {result['peak']['source']}")


def overall_verdict(results: list[dict[str, Any]]) -> str:
    return "PASS" if results and all(r["verdict"] == "PASS" for r in results) else "FAIL"


def save(results: list[dict[str, Any]], folder: Path, name: str, meta: dict[str, Any]) -> list[Path]:
    """verify-<name>.json and verify-<name>.png in `folder`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {"schema": 1, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "verdict": overall_verdict(results), **meta, "results": results}  # fmt: skip
    json_path = folder / f"verify-{name}.json"
    write_atomic(json_path, json.dumps(report, indent=1, default=str) + "\n")
    png_path = folder / f"verify-{name}.png"
    plot(results, png_path, f"{name}: {report['verdict']}")
    return [json_path, png_path]


def plot(results: list[dict[str, Any]], path: Path, title: str) -> None:
    import warnings

    import matplotlib

    warnings.filterwarnings("ignore", module="matplotlib")  # font and layout notices are not the user's business
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.4 * len(results), 4.4), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        rows = result["document"].get("throughput", [])
        for (device, dtype), marker in _series(rows):
            points = sorted((r["n"], r["tflops"], r["tflops_min"], r["tflops_max"]) for r in rows
                            if (r["device"], r["dtype"]) == (device, dtype))  # fmt: skip
            sizes = [p[0] for p in points]
            medians = [p[1] for p in points]
            low = [p[1] - p[2] for p in points]
            high = [p[3] - p[1] for p in points]
            ax.errorbar(sizes, medians, yerr=[low, high], marker=marker, capsize=3, label=f"{device} {dtype}")
        peak = result.get("peak")
        if peak and "float32" in peak["tflops"]:
            label = f"fp32 peak {peak['tflops']['float32']:.2f}" + (" (estimate)" if peak["estimate"] else "")
            ax.axhline(peak["tflops"]["float32"], color="grey", linestyle="--", label=label)
        ax.set_xscale("log", base=2)
        sizes_all = sorted({r["n"] for r in rows})
        ax.set_xticks(sizes_all, [str(n) for n in sizes_all])
        ax.set_ylim(bottom=0)  # fractions of peak read honestly only from a zero baseline
        ax.set_xlabel("matrix size n (n x n x n GEMM)")
        ax.set_ylabel("TFLOPS (decimal)")
        ax.set_title(f"{result['framework']} on {result['device']}: {result['verdict']}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _series(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, str], str]]:
    keys = sorted({(r["device"], r["dtype"]) for r in rows})
    markers = "osD^v<>"
    return [(key, markers[i % len(markers)]) for i, key in enumerate(keys)]
