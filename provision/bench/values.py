"""The values acceptance produces, typed: a benchmark script's checks and measurements, the gates the
verdict applies, and the verdict itself. JSON happens only at the edges (`to_json` / `from_json`);
everything between the verdict, the report, the team view and the commands passes these values.

Report schema 2 writes `Verdict.to_json()`; schema-1 reports (plain dicts with "dtype@n" fraction
keys) are still read by `Verdict.from_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .peaks import Peak

REPORT_SCHEMA = 2


class Status(Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    reason: str
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check:
        values = dict(data.get("values") or {})
        return cls(str(data["name"]), Status(data["status"]), str(data.get("reason", "")), values)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "reason": self.reason, "values": self.values}


@dataclass(frozen=True)
class Measurement:
    """One GEMM throughput figure: median and spread of the samples, decimal TFLOPS."""

    device: str
    dtype: str
    n: int
    tflops: float
    tflops_min: float
    tflops_max: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        tflops = float(data["tflops"])
        return cls(str(data["device"]), str(data["dtype"]), int(data["n"]), tflops,
                   float(data.get("tflops_min", tflops)), float(data.get("tflops_max", tflops)))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "dtype": self.dtype, "n": self.n, "tflops": self.tflops,
                "tflops_min": self.tflops_min, "tflops_max": self.tflops_max}  # fmt: skip


@dataclass(frozen=True)
class Gate:
    name: str
    status: Status
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "reason": self.reason}


@dataclass(frozen=True)
class Fraction:
    """A measurement as a fraction of the device's peak for its dtype."""

    dtype: str
    n: int
    value: float


@dataclass(frozen=True)
class Verdict:
    status: Status
    framework: str
    device: str
    device_kind: str
    device_name: str | None
    peak: Peak | None
    gates: tuple[Gate, ...]
    checks: tuple[Check, ...]
    measurements: tuple[Measurement, ...]
    fractions: tuple[Fraction, ...] = ()
    versus_cpu: float | None = None
    document: dict[str, Any] = field(default_factory=dict)  # the script's own output, kept for the record

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def fraction(self, dtype: str, n: int) -> float | None:
        return next((f.value for f in self.fractions if (f.dtype, f.n) == (dtype, n)), None)

    def best(self, dtype: str, device: str | None = None) -> Measurement | None:
        """The measurement of `dtype` at the largest size on `device` (default: the tested device)."""
        rows = [m for m in self.measurements if m.device == (device or self.device) and m.dtype == dtype]
        return max(rows, key=lambda m: m.n) if rows else None

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        peak = None
        if self.peak is not None:
            peak = {"tflops": self.peak.tflops, "source": self.peak.source, "estimate": self.peak.estimate}
        return {
            "verdict": self.status.value, "framework": self.framework, "device": self.device,
            "device_kind": self.device_kind, "device_name": self.device_name, "peak": peak,
            "fractions": [{"dtype": f.dtype, "n": f.n, "value": f.value} for f in self.fractions],
            "versus_cpu": self.versus_cpu, "gates": [g.to_json() for g in self.gates], "document": self.document,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        """A verdict from report schema 2, or from schema 1 ("fraction_of_peak": {"float32@512": x})."""
        doc = dict(data.get("document") or {})
        if "fractions" in data:
            fractions = tuple(Fraction(str(f["dtype"]), int(f["n"]), float(f["value"])) for f in data["fractions"])
        else:
            fractions = tuple(
                Fraction(key.rsplit("@", 1)[0], int(key.rsplit("@", 1)[1]), float(value))
                for key, value in (data.get("fraction_of_peak") or {}).items()
            )
        peak = data.get("peak")
        return cls(
            status=Status(data["verdict"]), framework=str(data.get("framework") or doc.get("framework") or "?"),
            device=str(data.get("device") or "cpu"), device_kind=str(data.get("device_kind") or "cpu"),
            device_name=data.get("device_name"),
            peak=Peak(dict(peak["tflops"]), str(peak["source"]), bool(peak.get("estimate"))) if peak else None,
            gates=tuple(Gate(str(g["name"]), Status(g["status"]), str(g["reason"])) for g in data.get("gates", [])),
            checks=tuple(Check.from_json(c) for c in doc.get("checks", [])),
            measurements=tuple(Measurement.from_json(m) for m in doc.get("throughput", [])),
            fractions=fractions, versus_cpu=data.get("versus_cpu"), document=doc,
        )  # fmt: skip


def overall(verdicts: list[Verdict]) -> Status:
    return Status.PASS if verdicts and all(v.passed for v in verdicts) else Status.FAIL
