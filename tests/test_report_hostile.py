"""`provision report` over a folder every node of a job writes into: each verify-*.json is untrusted.
A hostile or broken file is one line naming it (exit 1), never a hang, a traceback or an internal
error, and the valid reports beside it are still shown."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provision.bench.peaks import cpu_peak
from provision.bench.verdict import judge
from provision.profile.model import Thresholds

from .conftest import DATA

PROVISION = str(Path(sys.executable).parent / "provision")
GOOD_HOST = "good-node-01"


def _valid_report(hostname: str = GOOD_HOST) -> dict[str, Any]:
    """A report as `provision verify --report` writes it (schema 2), for a CPU that passed."""
    doc = json.loads((DATA / "bench" / "jax-cpu.json").read_text())
    result = judge(doc, Thresholds(), cpu_peak("flags : avx2 fma\ncpu MHz : 2000\n", None, 2))
    environment = {"lock_sha256": "a" * 64, "installed_sha256": "b" * 64, "matches_lock": True, "differences": []}
    return {"schema": 2, "name": "linux-cpu", "created": "2026-01-02T03:04:05Z", "verdict": "PASS",
            "profile": "linux-cpu", "variant": None, "platform": "linux-64", "prefix": "/scratch/env",
            "machine": {"hostname": hostname, "chip": "AMD EPYC", "memory_bytes": 1 << 34, "system": "Linux",
                        "macos": None, "gpus": []},
            "environment": environment, "results": [result.to_json()]}  # fmt: skip


def _folder(tmp_path: Path) -> Path:
    """The job's reports folder with one valid node report (node folders, as the Slurm job writes them)."""
    reports = tmp_path / "reports"
    (reports / GOOD_HOST).mkdir(parents=True)
    (reports / GOOD_HOST / "verify-linux-cpu.json").write_text(json.dumps(_valid_report(), indent=1))
    (reports / "bad-node").mkdir()
    return reports


def _mutated(change: Callable[[dict[str, Any]], None]) -> str:
    report = copy.deepcopy(_valid_report("bad-node"))
    change(report)
    return json.dumps(report)


def _throughput(report: dict[str, Any]) -> dict[str, Any]:
    throughput: dict[str, Any] = report["results"][0]["document"]["throughput"][0]
    return throughput


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """A change setting a dotted field ("results.0.device") of the report."""

    def change(report: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = report
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return change


# (case, the file's content, what the refusal says)
BROKEN: list[tuple[str, str | bytes, str]] = [
    ("top-level list", "[1, 2, 3]", "the top level is a list, not an object"),
    ("not JSON", '{"schema": 2, "results": [', "not JSON: "),
    ("not UTF-8", b'{"schema": 2, "x": "\xff\xfe"}', "not UTF-8 text"),
    ("nested arrays", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("nested objects", '{"a":' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
    ("huge integer", '{"schema": ' + "9" * 5000 + "}", "a number too long to read"),
    ("too large", " " * (1 << 20) + "{}", "larger than 1 MiB"),
    ("schema true", _mutated(_set("schema", True)), "schema: true, not 1 or 2"),
    ("no results", _mutated(lambda r: r.pop("results")), "results: missing"),
    ("results an object", _mutated(_set("results", {"a": 1})), "results: an object, not a list"),
    ("result a string", _mutated(_set("results.0", "PASS")), "results[0]: text, not an object"),
    ("verdict unknown", _mutated(_set("results.0.verdict", "\x1b[2JWIN")), "results[0].verdict: '\\x1b[2JWIN'"),
    ("tflops as text", _mutated(lambda r: _throughput(r).update(tflops="0.5")),
     "results[0].document.throughput[0].tflops: text, not a number"),
    ("tflops infinite", _mutated(lambda r: _throughput(r).update(tflops=float("inf"))),
     "results[0].document.throughput[0].tflops: inf, not a finite number >= 0"),
    ("tflops 1e999", _mutated(lambda r: _throughput(r).update(tflops=1.0)).replace('"tflops": 1.0', '"tflops": 1e999'),
     "results[0].document.throughput[0].tflops: inf, not a finite number >= 0"),
    ("tflops 1e308", _mutated(lambda r: _throughput(r).update(tflops=1e308)),  # finite, but no axis reaches it
     "results[0].document.throughput[0].tflops: 1e+308, more than 1e+06"),
    ("tflops NaN", _mutated(lambda r: _throughput(r).update(tflops=float("nan"))),
     "results[0].document.throughput[0].tflops: nan, not a finite number >= 0"),
    ("tflops negative", _mutated(lambda r: _throughput(r).update(tflops=-2.5)),
     "results[0].document.throughput[0].tflops: -2.5, not a finite number >= 0"),
    ("n a boolean", _mutated(lambda r: _throughput(r).update(n=True)),
     "results[0].document.throughput[0].n: true, not a whole number"),
    ("result null", _mutated(_set("results.0", None)), "results[0]: null, not an object"),
    ("verdict missing", _mutated(lambda r: r["results"][0].pop("verdict")), "results[0].verdict: null, not PASS"),
    ("throughput entry a list", _mutated(_set("results.0.document.throughput.0", [1])),
     "results[0].document.throughput[0]: a list, not an object"),
    ("fraction as text", _mutated(_set("results.0.fractions.0.value", "0.5")),
     "results[0].fractions[0].value: text, not a number"),
    ("hostname an object", _mutated(_set("machine.hostname", {"$ne": None})), "machine.hostname: an object, not text"),
    ("chip a list", _mutated(_set("machine.chip", ["x"])), "machine.chip: a list, not text"),
    ("machine a list", _mutated(_set("machine", [])), "machine: a list, not an object"),
    ("profile a number", _mutated(_set("profile", 7)), "profile: a number, not text"),
    ("matches_lock as text", _mutated(_set("environment.matches_lock", "yes")),
     "environment.matches_lock: text, not true or false"),
    ("differences an object", _mutated(_set("environment.differences", {})),
     "environment.differences: an object, not a list"),
    ("schema-1 fraction key", _mutated(lambda r: r["results"][0].pop("fractions") and None)
     .replace('"versus_cpu"', '"fraction_of_peak": {"float32@\u0661\u0662": 0.5}, "versus_cpu"'),
     "results[0].fraction_of_peak: key 'float32@"),
]  # fmt: skip


def _assert_one_line_and_the_rest_shown(code: int, out: str, err: str, bad: Path, said: str) -> None:
    assert code == 1, (out, err)
    assert "internal error" not in out + err and "Traceback" not in out + err, err
    naming = [line for line in err.splitlines() if str(bad) in line]
    assert len(naming) == 1 and f"{bad}: not a valid verify report (" in naming[0], err
    assert said in naming[0], naming[0]
    assert len(naming[0]) < 400  # one readable line, whatever the file held
    assert GOOD_HOST in out and "PASS" in out


@pytest.mark.parametrize(("content", "said"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_broken_report_is_one_line_and_the_others_are_shown(
    tmp_path: Path, run_cli, content: str | bytes, said: str
) -> None:
    reports = _folder(tmp_path)
    bad = reports / "bad-node" / "verify-linux-cpu.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    result = run_cli("report", str(reports))
    _assert_one_line_and_the_rest_shown(result.code, result.out, result.err, bad, said)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "link-loop", "dangling"])
def test_a_file_that_is_no_regular_file_never_hangs_the_report(tmp_path: Path, kind: str) -> None:
    reports = _folder(tmp_path)
    bad = reports / "bad-node" / "verify-linux-cpu.json"
    said = {"fifo": "not a regular file", "dev-zero": "not a regular file", "folder": "not a regular file",
            "link-loop": "cannot be read", "dangling": "cannot be read"}[kind]  # fmt: skip
    if kind == "fifo":
        os.mkfifo(bad)  # opening it for reading would wait for a writer forever
    elif kind == "dev-zero":
        bad.symlink_to("/dev/zero")  # reads zeros until memory runs out
    elif kind == "folder":
        bad.mkdir()
    elif kind == "link-loop":
        bad.symlink_to(bad.name)
    else:
        bad.symlink_to(reports / "gone.json")
    # A real process with a deadline: a hang fails the test instead of stalling the run.
    shown = subprocess.run([PROVISION, "report", str(reports)], capture_output=True, text=True, timeout=60)
    _assert_one_line_and_the_rest_shown(shown.returncode, shown.stdout, shown.stderr, bad, said)


def test_refused_reports_keep_the_json_table_valid_and_the_node_is_not_called_silent(tmp_path: Path, run_cli) -> None:
    reports = _folder(tmp_path)
    (reports / "expected-nodes.txt").write_text(f"{GOOD_HOST}\nbad-node\nquiet-node\n")
    bad = reports / "bad-node" / "verify-linux-cpu.json"
    bad.write_text(_mutated(lambda r: _throughput(r).update(tflops=float("nan"))))
    result = run_cli("report", str(reports), "--json")
    assert result.code == 1 and "internal error" not in result.err
    table = json.loads(result.out)
    assert [(r["machine"], r["verdict"]) for r in table] == [(GOOD_HOST, "PASS"), ("quiet-node", "NO REPORT")]
    # One line: the node that never reported, then the file that is not a report (named once).
    assert result.err.count("\n") == 1 and "never reported: quiet-node;" in result.err
    assert result.err.count(str(bad)) == 1 and "bad-node," not in result.err


def test_only_broken_reports_is_one_line_per_file(tmp_path: Path, run_cli) -> None:
    (tmp_path / "verify-a.json").write_text("[]")
    (tmp_path / "verify-b.json").write_text('{"schema": 2, "results": "none"}')
    result = run_cli("report", str(tmp_path / "verify-a.json"), str(tmp_path), "--png", str(tmp_path / "c.png"))
    assert result.code == 1 and result.out == "" and result.err.count("\n") == 1, result.err
    assert result.err.count("verify-a.json") == 1 and not (tmp_path / "c.png").exists()  # named once, no empty chart
    assert f"{tmp_path / 'verify-a.json'}: not a valid verify report (the top level is a list" in result.err
    assert f"{tmp_path / 'verify-b.json'}: not a valid verify report (results: text, not a list)" in result.err


def test_a_file_name_from_the_folder_is_shown_escaped(tmp_path: Path, run_cli) -> None:
    reports = _folder(tmp_path)
    (reports / "bad-node" / "verify-\x1b[2J.json").write_text("[]")
    result = run_cli("report", str(reports))
    assert result.code == 1 and "\x1b" not in result.out + result.err
    assert "verify-\\x1b[2J.json: not a valid verify report" in result.err


def test_a_huge_host_name_is_cut_and_control_characters_are_escaped(tmp_path: Path, run_cli) -> None:
    reports = _folder(tmp_path)
    report = _valid_report("h" * 1_000_000)  # the whole report stays under the 1 MiB cap
    report["machine"]["chip"] = "EPYC\x1b]8;;http://evil.example\x07\u202e"
    (reports / "bad-node" / "verify-linux-cpu.json").write_text(json.dumps(report))
    result = run_cli("report", str(reports))
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\u202e" not in result.out and "EPYC\\x1b]8;;" in result.out
    assert GOOD_HOST in result.out and "h" * 64 not in result.out and len(result.out) < 5000
    table = json.loads(run_cli("report", str(reports), "--json").out)  # the values, as cut
    assert {r["machine"] for r in table} == {GOOD_HOST, "h" * 63 + "…"}
    assert "EPYC\x1b]8;;http://evil.example\x07\u202e" in {r["chip"] for r in table}


HOSTILE_LABELS = ["$\\frac{1}{0}$", "a$b", "$\\undefinedmacro{$", "$x^{$", "tab\x1b[31mred\x07", "\U0001f600\u4e2d"]


def test_the_chart_takes_host_names_as_text(tmp_path: Path) -> None:
    reports = _folder(tmp_path)
    for i, name in enumerate(HOSTILE_LABELS):
        report = _valid_report(name)
        report["machine"]["chip"] = name
        report["profile"] = name
        (reports / "bad-node" / f"verify-{i}.json").write_text(json.dumps(report))
    png = tmp_path / "team.png"
    shown = subprocess.run([PROVISION, "report", str(reports), "--png", str(png)], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == "" and "\x1b" not in shown.stdout  # no matplotlib warning carries a node's text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_five_thousand_reports(tmp_path: Path, run_cli) -> None:
    """A large job's folder: every row in the table, and a chart of the failed or slowest (the time is measured
    by hand, not asserted: 5,000 reports render in a few seconds)."""
    reports = tmp_path / "reports"
    base = _valid_report()
    for i in range(5000):
        base["machine"]["hostname"] = f"node-{i:05d}"
        (reports / f"node-{i:05d}").mkdir(parents=True)
        (reports / f"node-{i:05d}" / "verify-linux-cpu.json").write_text(json.dumps(base))
    (reports / "expected-nodes.txt").write_text("".join(f"node-{i:05d}\n" for i in range(5000)))
    result = run_cli("report", str(reports))
    assert result.code == 0, result.err
    assert all(f"node-{i:05d}" in result.out for i in (0, 2500, 4999))
    # Past a table a person reads, plain columns (rich took 4 s for these): every verdict under its heading.
    lines = result.out.splitlines()
    at = lines[1].index("verdict")
    assert len(lines) == 5003 and {line[at : at + 4] for line in lines[3:]} == {"PASS"}
    png = tmp_path / "team.png"
    result = run_cli("report", str(reports), "--png", str(png), "--json")
    assert result.code == 0 and len(json.loads(result.out)) == 5000 and png.stat().st_size > 10_000


def test_a_report_with_no_results_is_a_row_of_its_own_not_a_gap(tmp_path: Path, run_cli) -> None:
    """`"results": []` is a valid report of a node that measured nothing: it is named, never left off the table."""
    reports = _folder(tmp_path)
    (reports / "expected-nodes.txt").write_text(f"{GOOD_HOST}\nbad-node\n")
    (reports / "bad-node" / "verify-linux-cpu.json").write_text(_mutated(lambda r: r.update(results=[])))
    result = run_cli("report", str(reports), "--json")
    assert result.code == 1 and "internal error" not in result.err
    table = json.loads(result.out)
    assert [(r["machine"], r["verdict"]) for r in table] == [("bad-node", "NO RESULTS"), (GOOD_HOST, "PASS")]
    assert result.err.count("\n") == 1 and "reported no results: bad-node." in result.err
    shown = run_cli("report", str(reports), "--png", str(tmp_path / "team.png"))
    assert shown.code == 1 and "NO RESULTS" in shown.out and (tmp_path / "team.png").exists()


def test_a_bar_of_a_node_that_never_reported_names_no_python_value() -> None:
    """The chart's label of a NO REPORT row (no profile, framework or device known): dashes, not `None`."""
    from provision.bench.team import NO_REPORT, TeamRow, bar_label

    assert bar_label(TeamRow("gpu-node-7", NO_REPORT)) == "gpu-node-7\n?\n- (-/-)"
