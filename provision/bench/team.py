"""`provision report`: many machines' verify reports in one table and one chart."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import LocatedError, ProvisionError, TeamSideMissing
from .node_report import NodeReport, Refused, read_report
from .values import Status

NO_REPORT = "NO REPORT"  # the verdict of a node a job was given that wrote nothing
NO_RESULTS = "NO RESULTS"  # the verdict of a report with `"results": []`: the node ran verify and measured nothing


@dataclass(frozen=True)
class TeamRow:
    """One line of the team's table: a machine's result for one framework (`--json` writes these fields)."""

    machine: str
    verdict: str
    chip: str = "?"
    profile: str | None = None
    framework: str = "-"
    device: str = "-"
    fp32_tflops: float | None = None
    fraction_of_peak: float | None = None
    created: str | None = None
    environment: str = "?"  # environment_state's words
    fingerprint: str | None = None  # the installed state's hash, its first 12 digits

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

MAX_CHART_BARS = 400  # Agg draws at most 2**16 pixels a side: about 800 bars; past a few hundred none is readable


def load_reports(paths: list[Path]) -> tuple[list[NodeReport], list[Refused]]:
    """verify-*.json files, given directly or found in folders: the valid reports, and one `Refused`
    per file that is not one (every node writes into the folder, so any file may be hostile)."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("**/verify-*.json")) if path.is_dir() else [path]
    reports: list[NodeReport] = []
    refused: list[Refused] = []
    for file in dict.fromkeys(files):  # a file named directly and inside a folder given too is read once
        report = read_report(file)
        if isinstance(report, Refused):
            refused.append(report)
        else:
            reports.append(report)
    if not files and not any(expected_nodes(p) for p in paths):
        raise ProvisionError(
            f"no verify-*.json reports in {', '.join(map(str, paths))}; run `provision verify --report DIR`."
        )
    return reports, refused


def expected_nodes(folder: Path) -> list[str]:
    """The nodes a Slurm job was given (`expected-nodes.txt`, written by the exported batch script).
    The file is untrusted like any facts folder: regular, small, one valid host name per line."""
    from .. import grammar
    from ..files import read_untrusted_text
    from ..layout import EXPECTED_NODES

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


def unreported(paths: list[Path], reports: list[NodeReport], refused: list[Refused]) -> list[TeamRow]:
    """A row for every expected node with no report in its folder (FOLDER/NODE/verify-*.json). A node whose
    report was refused did write one: it is named for that, not as silent."""
    seen = {_resolved(file.parent) for file in [*(r.file for r in reports), *(r.file for r in refused)]}
    out = []
    for folder in paths:
        for node in expected_nodes(folder):
            if _resolved(folder / node) not in seen:
                out.append(TeamRow(node, NO_REPORT))
    return out


def _resolved(path: Path) -> Path:
    """`path` with its links followed; the nodes' folder may hold a link loop, which is then taken as it is."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python before 3.13 raises RuntimeError for a loop
        return path.absolute()


REFUSALS_SHOWN = 5  # the error is one line: thousands of bad files are counted, not listed


def problems(table: list[TeamRow], refused: list[Refused]) -> list[str]:
    """One line per machine that failed or never reported, and per file that is not a valid report, for
    the summary and the exit code."""
    from ..grammar import printable

    failed = sorted(
        {printable(f"{r.machine} ({r.framework})") for r in table if r.verdict == Status.FAIL.value}
    )
    missing = sorted({printable(r.machine) for r in table if r.verdict == NO_REPORT})
    empty = sorted({printable(r.machine) for r in table if r.verdict == NO_RESULTS})
    return (
        ([f"FAIL on {', '.join(failed)}"] if failed else [])
        + ([f"never reported: {', '.join(missing)}"] if missing else [])
        + ([f"reported no results: {', '.join(empty)}"] if empty else [])
        + [r.line() for r in refused[:REFUSALS_SHOWN]]
        + ([f"and {len(refused) - REFUSALS_SHOWN} more files that are not valid reports"]
           if len(refused) > REFUSALS_SHOWN else [])
    )  # fmt: skip


def environment_state(report: NodeReport, usual_lock: str | None) -> str:
    """'exact', 'differs (N)', 'other lock' or '?' (a report written before provision recorded it)."""
    environment = report.environment
    if environment is None:
        return "?"
    if usual_lock and environment.lock_sha256 != usual_lock:
        return "other lock"
    if environment.matches_lock:
        return "exact"
    return f"differs ({environment.differences})"


def _usual_locks(reports: list[NodeReport]) -> dict[str, str]:
    """Per profile, the lock most machines report (the one the team claims)."""
    from collections import Counter

    counts: dict[str, Counter[str]] = {}
    for report in reports:
        lock = report.environment.lock_sha256 if report.environment else None
        if lock:
            counts.setdefault(str(report.environment_name), Counter())[lock] += 1
    return {profile: counter.most_common(1)[0][0] for profile, counter in counts.items()}


def rows(reports: list[NodeReport], nodes: frozenset[str] = frozenset()) -> list[TeamRow]:
    """One row per result (a report with none: one NO RESULTS row); a report in the folder of a node its job
    was given (`nodes`) is named by that node, as Slurm names it: several nodes may share a host name (or a
    container's), never a node name."""
    out = []
    usual = _usual_locks(reports)
    for report in reports:
        installed = report.environment.installed_sha256 if report.environment else None
        folder = report.file.parent.name
        node = TeamRow(
            machine=folder if folder in nodes else report.hostname or folder, verdict=NO_RESULTS,
            chip=report.chip or "?", profile=report.environment_name, created=report.created,
            environment=environment_state(report, usual.get(str(report.environment_name))),
            fingerprint=(installed or "")[:12] or None,
        )  # fmt: skip
        if not report.results:  # one row per result would leave this node out of the table, as if never asked
            out.append(node)
        for result in report.results:
            out.append(replace(node, verdict=result.status.value, chip=report.chip or result.device_name or "?",
                               framework=result.framework, device=result.device, fp32_tflops=result.fp32_tflops,
                               fraction_of_peak=result.fraction_of_peak))  # fmt: skip
    return sorted(out, key=lambda r: (r.profile or "", r.fp32_tflops or 0))


COLUMNS = ("machine", "chip", "profile", "framework", "device", "verdict", "environment", "installed", "fp32 TFLOPS",
           "of peak")  # fmt: skip
RIGHT = ("fp32 TFLOPS", "of peak")
TITLE = "Team acceptance results (fp32 GEMM at the largest size measured)"
RICH_ROWS = 500  # a table a person reads; past it (a large job's log), plain columns: rich takes seconds per 5,000


def show(table: list[TeamRow]) -> None:
    from ..grammar import printable

    # Each report is a node's word: its text is shown as text, never as markup or terminal codes.
    cells = [[printable(str(v)) if v is not None else "-" for v in (
        row.machine, row.chip, row.profile, row.framework, row.device, row.verdict, row.environment,
        row.fingerprint, f"{row.fp32_tflops:.3f}" if row.fp32_tflops else None,
        f"{row.fraction_of_peak:.0%}" if row.fraction_of_peak else None)] for row in table]  # fmt: skip
    (_rich if len(cells) <= RICH_ROWS else _plain)(cells)


def _rich(cells: list[list[str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    view = Table(title=TITLE, title_justify="left")
    for column in COLUMNS:
        view.add_column(column, justify="right" if column in RIGHT else "left")
    for row in cells:
        text = [escape(cell) for cell in row]
        style = "green" if row[5] == Status.PASS.value else "bold red"
        text[5], text[6] = f"[{style}]{text[5]}[/]", _marked(text[6])
        view.add_row(*text)
    console = Console()
    # Piped into a CI log, the table keeps its columns instead of wrapping at 80.
    (console if console.is_terminal else Console(width=160)).print(view)


def _plain(cells: list[list[str]]) -> None:
    """Columns as `sacct` prints them: padded to the widest cell (in terminal cells); on a terminal the verdict and
    a drifted environment coloured as in the rich table (click drops the colour when piped)."""
    import click
    from rich.cells import cell_len

    widths = [max([cell_len(column)] + [cell_len(row[i]) for row in cells]) for i, column in enumerate(COLUMNS)]

    def line(row: list[str] | tuple[str, ...], colour: bool = True) -> str:
        padded = [" " * (w - cell_len(c)) + c if name in RIGHT else c + " " * (w - cell_len(c))
                  for name, c, w in zip(COLUMNS, row, widths, strict=True)]  # fmt: skip
        if colour:
            passed = row[5] == Status.PASS.value
            padded[5] = click.style(padded[5], fg="green" if passed else "red", bold=not passed)
            padded[6] = click.style(padded[6], fg="red", bold=True) if _drifted(row[6]) else padded[6]
        return "  ".join(padded).rstrip()

    click.echo("\n".join([TITLE, line(COLUMNS, False), line(["-" * w for w in widths], False)]
                         + [line(row) for row in cells]))  # fmt: skip


def _marked(state: str) -> str:
    return f"[bold red]{state}[/]" if _drifted(state) else state


def _drifted(state: str) -> bool:
    """The environment column names a difference from the lock (not `exact`, nor `?` for a report without it)."""
    return state not in ("exact", "?")


def needs_log_scale(values: list[float]) -> bool:
    """Machines more than 10x apart are read on a log axis."""
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) > 10 * min(positive)


def bar_label(row: TeamRow) -> str:
    """A bar's label: machine, chip, and what ran where; a column a row leaves unknown reads `-`, never `None`."""
    from ..grammar import printable

    return "\n".join(printable(part) for part in (row.machine, row.chip,
                                                   f"{row.profile or '-'} ({row.framework}/{row.device})"))  # fmt: skip


def chart(table: list[TeamRow], path: Path) -> None:
    """The fp32 throughput of every row as a bar; past MAX_CHART_BARS rows, the failed and slowest ones."""
    import warnings

    try:
        import matplotlib
    except ImportError:
        raise TeamSideMissing("drawing the team's chart (--png)", "matplotlib") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = table
    if len(table) > MAX_CHART_BARS:
        # The rows worth a look come first: what failed, then what ran slowest; kept in the table's order.
        worst = sorted(range(len(table)), key=lambda i: (table[i].verdict == Status.PASS.value,
                                                         table[i].fp32_tflops or 0))  # fmt: skip
        shown = [table[i] for i in sorted(worst[:MAX_CHART_BARS])]
    # A node's text is written as text: escaped like the terminal's, and never parsed as mathtext or TeX
    # (a host name "$\\frac{1}{0}$" or "a$b" is a label, not a formula to typeset or to fail on).
    labels = [bar_label(r) for r in shown]
    values = [r.fp32_tflops or 0 for r in shown]
    colors = ["tab:green" if r.verdict == Status.PASS.value else "tab:red" for r in shown]
    with warnings.catch_warnings(), matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        # Missing glyphs and layout notices would print a node's text to the terminal, raw: none is shown.
        warnings.simplefilter("ignore")
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.7 * len(shown)))
        bars = ax.barh(range(len(shown)), values, color=colors)
        for bar, row in zip(bars, shown, strict=True):
            note = row.verdict + (f", {row.fraction_of_peak:.0%} of peak" if row.fraction_of_peak else "")
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f"  {note}", va="center", fontsize=8)
        ax.set_yticks(range(len(shown)), labels, fontsize=7)
        positive = [v for v in values if v > 0]
        if needs_log_scale(values):
            # A laptop CPU beside an H200: on a linear axis the small bars vanish.
            ax.set_xscale("log")
            ax.set_xlim(min(positive) / 2, max(positive) * 4)
            ax.set_xlabel("fp32 GEMM TFLOPS (decimal, log scale); green PASS, red FAIL")
        else:
            ax.set_xlim(0, (max(values, default=0) or 1) * 1.45)
            ax.set_xlabel("fp32 GEMM TFLOPS (decimal); green PASS, red FAIL")
        title = "Acceptance across the team's machines"
        if len(shown) < len(table):
            title += f": the {len(shown)} failed or slowest of {len(table)} results"
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
