"""One node's verify report, read as untrusted input for `provision report`.

Every node of a Slurm job writes into one shared folder, so each verify-*.json there is another
machine's word: it is read as a regular file of at most 1 MiB (a FIFO or a link to /dev/zero must
not hang the report), parsed, and every field the team table and chart use is checked here into
typed values. A report that fails any check becomes one `Refused` line naming the file, the field
and what is wrong with it; the other reports are still shown.

Text is kept as the node wrote it, cut to a table cell's length (a 1 MB host name must not make
rendering slow); escaping it for a terminal or a chart is the display's job (`grammar.printable`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..grammar import VARIANT_NAME, full, printable
from .values import REPORT_SCHEMA, Status

MAX_REPORT_BYTES = 1 << 20  # a real report is a few kB; its `differences` list is the only part that grows
TEXT_CAP = 64  # host names, chips, profiles, frameworks, devices: one table cell each
HASH_CAP = 128  # lock and installed hashes: compared and shortened, never shown whole
MAX_SIZE = 1 << 31  # a GEMM size n beyond this is no measurement
FRACTION_KEY = re.compile(r"[A-Za-z0-9_]{1,32}@[0-9]{1,10}")  # schema 1: "float32@4096" (ASCII digits only)


@dataclass(frozen=True)
class Environment:
    """What the node recorded about its environment against the lock."""

    lock_sha256: str | None
    installed_sha256: str | None
    matches_lock: bool
    differences: int


@dataclass(frozen=True)
class NodeResult:
    """One framework's verdict on the node, reduced to what the team view shows."""

    framework: str
    device: str
    device_name: str | None
    status: Status
    fp32_tflops: float | None  # the fp32 GEMM at the largest size measured on the tested device
    fraction_of_peak: float | None  # that measurement as a fraction of the device's peak, when known


@dataclass(frozen=True)
class NodeReport:
    file: Path
    profile: str | None
    variant: str | None
    hostname: str | None
    chip: str | None
    created: str | None
    environment: Environment | None  # None: written before reports recorded it
    results: tuple[NodeResult, ...]

    @property
    def environment_name(self) -> str | None:
        """`torch-linux (cuda)`: the profile and, for a profile with variants, the variant the node installed
        (the nodes of one variant share a lock; a CPU node is not "other lock" beside the GPU nodes)."""
        if self.profile is not None and self.variant is not None:
            return f"{self.profile} ({self.variant})"
        return self.profile


@dataclass(frozen=True)
class Refused:
    """A verify-*.json that is not a valid report, and why."""

    file: Path
    reason: str

    def line(self) -> str:
        # The file name comes from the shared folder, so it is as untrusted as the file's contents.
        return f"{printable(str(self.file))}: not a valid verify report ({self.reason})"


class Invalid(ValueError):
    """A field that fails its check: where it is (dotted) and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def read_report(file: Path) -> NodeReport | Refused:
    """The checked report in `file`, or why it is refused; never raises for what the file holds."""
    from ..errors import LocatedError
    from ..files import read_untrusted_text

    try:
        text = read_untrusted_text(file, MAX_REPORT_BYTES, str(file), "")
    except LocatedError as exc:
        return Refused(file, exc.problem)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return Refused(file, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except ValueError:  # Python refuses integers of more than 4,300 digits
        return Refused(file, "not JSON: a number too long to read")
    except RecursionError:  # thousands of nested brackets exhaust the parser's stack
        return Refused(file, "nested too deeply")
    try:
        return checked_report(raw, file)
    except Invalid as exc:
        return Refused(file, str(exc))


def checked_report(raw: object, file: Path) -> NodeReport:
    """A parsed report (schema 1 or 2) checked field by field into a `NodeReport`; raises `Invalid`."""
    if not isinstance(raw, dict):
        raise Invalid("", f"the top level is {_kind(raw)}, not an object")
    report: dict[str, Any] = raw
    schema = report.get("schema")
    if isinstance(schema, bool) or schema not in (1, REPORT_SCHEMA):
        raise Invalid("schema", f"{_shown(schema)}, not 1 or {REPORT_SCHEMA}")
    if "results" not in report:
        raise Invalid("results", "missing")
    if not isinstance(report["results"], list):
        raise Invalid("results", f"{_kind(report['results'])}, not a list")
    results: list[Any] = report["results"]
    machine = _object(report.get("machine"), "machine")
    variant = _text(report.get("variant"), "variant", TEXT_CAP)
    return NodeReport(
        file=file,
        profile=_text(report.get("profile"), "profile", TEXT_CAP) or _text(report.get("name"), "name", TEXT_CAP),
        # A variant outside the grammar is not a variant provision wrote: the row shows the profile alone.
        variant=variant if full(VARIANT_NAME, variant) else None,
        hostname=_text(machine.get("hostname"), "machine.hostname", TEXT_CAP),
        chip=_text(machine.get("chip"), "machine.chip", TEXT_CAP),
        created=_text(report.get("created"), "created", TEXT_CAP),
        environment=_environment(report.get("environment")),
        results=tuple(_result(result, f"results[{i}]") for i, result in enumerate(results)),
    )


def _environment(raw: object) -> Environment | None:
    environment = _object(raw, "environment")
    if not environment:
        return None
    matches = environment.get("matches_lock", False)
    if not isinstance(matches, bool):
        raise Invalid("environment.matches_lock", f"{_kind(matches)}, not true or false")
    return Environment(
        lock_sha256=_text(environment.get("lock_sha256"), "environment.lock_sha256", HASH_CAP),
        installed_sha256=_text(environment.get("installed_sha256"), "environment.installed_sha256", HASH_CAP),
        matches_lock=matches,
        differences=len(_list(environment.get("differences"), "environment.differences")),
    )


def _result(raw: object, where: str) -> NodeResult:
    """One entry of `results`: `Verdict.to_json()` (schema 2) or its schema-1 form."""
    result = _object(raw, where, required=True)
    document = _object(result.get("document"), f"{where}.document")
    status = result.get("verdict")
    if not isinstance(status, str) or status not in {s.value for s in Status}:
        raise Invalid(f"{where}.verdict", f"{_shown(status)}, not PASS, FAIL or SKIP")
    framework = _text(result.get("framework"), f"{where}.framework", TEXT_CAP)
    framework = framework or _text(document.get("framework"), f"{where}.document.framework", TEXT_CAP)
    device = _text(result.get("device"), f"{where}.device", TEXT_CAP) or "cpu"
    # The tested device's fp32 measurement at the largest size (as `Verdict.best`); every entry is checked.
    best: tuple[int, float] | None = None
    for i, entry in enumerate(_list(document.get("throughput"), f"{where}.document.throughput")):
        at = f"{where}.document.throughput[{i}]"
        measurement = _object(entry, at, required=True)
        on = _text(measurement.get("device"), f"{at}.device", TEXT_CAP)
        dtype = _text(measurement.get("dtype"), f"{at}.dtype", TEXT_CAP)
        n = _size(measurement.get("n"), f"{at}.n")
        tflops = _rate(measurement.get("tflops"), f"{at}.tflops")
        for bound in ("tflops_min", "tflops_max"):
            if bound in measurement:
                _rate(measurement[bound], f"{at}.{bound}")
        if on == device and dtype == "float32" and (best is None or n > best[0]):
            best = (n, tflops)
    fractions = _fractions(result, where)
    return NodeResult(
        framework=framework or "?",
        device=device,
        device_name=_text(result.get("device_name"), f"{where}.device_name", TEXT_CAP),
        status=Status(status),
        fp32_tflops=best[1] if best else None,
        fraction_of_peak=fractions.get(("float32", best[0])) if best else None,
    )


def _fractions(result: dict[str, Any], where: str) -> dict[tuple[str, int], float]:
    """Fractions of peak by (dtype, n): schema 2's list, or schema 1's {"float32@4096": x}."""
    out: dict[tuple[str, int], float] = {}
    if "fractions" in result:
        for i, entry in enumerate(_list(result["fractions"], f"{where}.fractions")):
            at = f"{where}.fractions[{i}]"
            fraction = _object(entry, at, required=True)
            dtype = _text(fraction.get("dtype"), f"{at}.dtype", TEXT_CAP) or ""
            out[dtype, _size(fraction.get("n"), f"{at}.n")] = _rate(fraction.get("value"), f"{at}.value")
        return out
    for key, value in _object(result.get("fraction_of_peak"), f"{where}.fraction_of_peak").items():
        if not FRACTION_KEY.fullmatch(key):
            raise Invalid(f"{where}.fraction_of_peak", f"key {_shown(key)} is not DTYPE@N")
        dtype, n = key.rsplit("@", 1)
        out[dtype, int(n)] = _rate(value, f"{where}.fraction_of_peak.{key}")
    return out


def _kind(value: object) -> str:
    """A JSON value's type in words, for the line that refuses it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _shown(value: object) -> str:
    """A scalar as the refusal quotes it: short and printable, whatever the node wrote."""
    if isinstance(value, bool):
        return json.dumps(value)  # as the file spells it
    if value is None or isinstance(value, (dict, list)):
        return _kind(value)
    text = repr(value[:40] + "..." if isinstance(value, str) and len(value) > 40 else value)
    return printable(text[:60])


def _object(value: object, where: str, required: bool = False) -> dict[str, Any]:
    """An object; unless `required`, absent or null reads as empty."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Invalid(where, f"{_kind(value)}, not an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    """An optional list (absent or null: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(where, f"{_kind(value)}, not a list")
    return value


def _text(value: object, where: str, cap: int) -> str | None:
    """Optional text, cut to `cap` characters (with an ellipsis, so a cut value never reads as whole)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(where, f"{_kind(value)}, not text")
    return value if len(value) <= cap else value[: cap - 1] + "…"


def _size(value: object, where: str) -> int:
    # bool is an int to Python but `true` is no size; a number as text is a type error, not a size.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE:
        raise Invalid(where, f"{_shown(value)}, not a whole number from 1 to {MAX_SIZE}")
    return value


MAX_RATE = 1e6  # TFLOPS (an exaflop in one report) or a fraction of peak: far above any machine


def _rate(value: object, where: str) -> float:
    """A throughput or a fraction: a finite number >= 0 (JSON readers accept NaN, Infinity and 1e999)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(where, f"{_kind(value)}, not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise Invalid(where, "a number too large") from None
    if not math.isfinite(number) or number < 0:
        raise Invalid(where, f"{_shown(value)}, not a finite number >= 0")
    if number > MAX_RATE:  # finite but absurd (1e308): a chart's axis cannot even be drawn to it
        raise Invalid(where, f"{_shown(value)}, more than {MAX_RATE:.0e} (no machine measures that)")
    return number
