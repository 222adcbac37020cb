"""`verify --distributed`: the ranks of a job prove they can work together (scripts/dist_jax.py).

Under Slurm every task runs it once, the rendezvous taken from Slurm's variables (the first node of the
step is the coordinator, the port derived from the job id); elsewhere it starts `ranks` processes on this
host, over loopback: the figure a cluster's links are compared with. Every value read from the
environment is checked before it reaches a command line or an address.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import grammar
from ..errors import ProvisionError, ToolFailed

if TYPE_CHECKING:
    from .verify import Subject
from .values import Status

# One script per framework, the same checks and the same JSON: the framework's own collectives and DDP.
SCRIPTS = {"jax": Path(__file__).parent / "scripts" / "dist_jax.py",
           "torch": Path(__file__).parent / "scripts" / "dist_torch.py"}  # fmt: skip
SIZES_MB = (1, 4, 16, 64, 256)
# Peak bandwidth of one direction of a link, GB/s, what nccl-tests' busbw is held to. Sources: NVIDIA H100
# and H200 datasheets (NVLink 4: 900 GB/s per GPU, both directions together); PCI-SIG (PCIe 4.0 x16 about
# 32 GB/s, 5.0 x16 about 64 GB/s per direction); InfiniBand Trade Association (HDR 200 Gb/s, NDR 400 Gb/s).
LINK_PEAKS_GBS = {"NVLink 4 (H100, H200)": 450.0, "PCIe 5.0 x16": 64.0, "PCIe 4.0 x16": 32.0,
                  "InfiniBand NDR (400 Gb/s)": 50.0, "InfiniBand HDR (200 Gb/s)": 25.0}  # fmt: skip


@dataclass(frozen=True)
class Rendezvous:
    coordinator: str  # HOST:PORT of rank 0
    ranks: int
    rank: int
    where: str  # "slurm" or "this host"

    def on_second_port(self) -> Rendezvous:
        """The same ranks on the port a failed rendezvous is tried again on (RETRY_OFFSET above the first)."""
        host, _, port = self.coordinator.rpartition(":")
        return replace(self, coordinator=f"{host}:{int(port) + RETRY_OFFSET}")


def from_slurm(env: dict[str, str]) -> Rendezvous | None:
    """This task's place in a Slurm step, or None outside one."""
    if "SLURM_PROCID" not in env:
        return None
    values = {name: env.get(name, "") for name in ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_JOB_ID")}
    bad = [name for name, value in values.items() if not (value.isdigit() and len(value) <= 9)]
    if bad:
        raise ProvisionError(f"{bad[0]}={grammar.printable(values[bad[0]])[:40]!r}: not a number; run it under srun.")
    if not 0 <= int(values["SLURM_PROCID"]) < int(values["SLURM_NTASKS"]):
        raise ProvisionError(f"SLURM_PROCID={values['SLURM_PROCID']} is not a rank of SLURM_NTASKS="
                             f"{values['SLURM_NTASKS']}; run it under srun.")  # fmt: skip
    nodes = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST") or ""
    first = _scontrol(["show", "hostnames", nodes]).split()[:1]
    if not first or not grammar.full(grammar.HOST_NAME, first[0]):
        raise ProvisionError(f"SLURM_STEP_NODELIST: no node name in {grammar.printable(nodes)[:80]!r}.")
    address = _node_address(first[0])
    port = 20000 + int(values["SLURM_JOB_ID"]) % 20000  # one per job: two jobs on a node never collide
    return Rendezvous(f"{address}:{port}", int(values["SLURM_NTASKS"]), int(values["SLURM_PROCID"]), "slurm")


def _scontrol(args: list[str]) -> str:
    try:
        done = subprocess.run(["scontrol", *args], capture_output=True, text=True, timeout=60)
    except OSError:
        raise ProvisionError("SLURM_PROCID is set but this is not a Slurm step (no scontrol on PATH); unset it, "
                             "or run it under srun") from None  # fmt: skip
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no output"])[0]
        raise ToolFailed(f"scontrol {' '.join(args[:2])} failed: {grammar.printable(first)[:200]}")
    return done.stdout


def _node_address(node: str) -> str:
    """Where the node listens (its NodeAddr: several nodes of a test cluster may share one host)."""
    shown = _scontrol(["show", "node", "-o", node])
    for field in shown.split():
        if field.startswith("NodeAddr="):
            address = field.removeprefix("NodeAddr=")
            if grammar.full(grammar.HOST_NAME, address):
                return address
    return node


def run_ranks(python: Path, env: dict[str, str], rendezvous: Rendezvous | None, ranks: int,
              framework: str = "jax") -> dict[str, Any] | None:  # fmt: skip
    """Run the check; rank 0's gathered result (every rank's figures), or None on the other ranks."""
    sizes = ",".join(map(str, SIZES_MB))
    script = SCRIPTS[framework]
    if rendezvous is not None:
        done = _run_rank(python, script, rendezvous, sizes, env)
        if _never_met(done):
            # The error is propagated to every task, so each one sees it and takes the same second port.
            rendezvous = rendezvous.on_second_port()
            _once_more(done, f"rank {rendezvous.rank}: ", f" at {rendezvous.coordinator}")
            done = _run_rank(python, script, rendezvous, sizes, env)
        _check(done, rendezvous.rank)
        return _result(done.stdout) if rendezvous.rank == 0 else None
    local = _local_ranks(python, script, ranks, sizes, env)
    failed = next((done for done in local if _never_met(done)), None)
    if failed is not None:
        _once_more(failed, "", "")
        local = _local_ranks(python, script, ranks, sizes, env)
    for rank, ended in enumerate(local):
        _check(ended, rank)
    return _result(local[0].stdout)


def _never_met(done: subprocess.CompletedProcess[str]) -> bool:
    return done.returncode != 0 and RENDEZVOUS_FAILED.search(done.stderr) is not None


def _once_more(done: subprocess.CompletedProcess[str], who: str, where: str) -> None:
    """Said, and tried once more: a second failure is the verdict."""
    print(f"distributed: {who}the ranks' rendezvous failed ({_telling(done.stderr)[:200]}); once more{where}",
          file=sys.stderr, flush=True)  # fmt: skip


def _local_ranks(python: Path, script: Path, ranks: int, sizes: str,
                 env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:  # fmt: skip
    """`ranks` processes on this host, over loopback, on a port free now."""
    port = _free_port()
    processes = [subprocess.Popen([str(python), "-I", str(script), f"127.0.0.1:{port}", str(ranks), str(rank), sizes],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for rank in range(ranks)]  # fmt: skip
    outputs = [process.communicate(timeout=1800) for process in processes]
    return [subprocess.CompletedProcess(p.args, p.returncode, out, err)
            for p, (out, err) in zip(processes, outputs, strict=True)]  # fmt: skip


# A line that says what went wrong: a Python exception's own line, or XLA's log of an error or a failed check
# (`E1207 12:00:00.000 ... coordination_service.cc:1549] ... ABORTED: ...`), rather than the last frame of the
# stack it prints after aborting. The first such line: what follows is mostly its consequences (an error one task
# hits is propagated to all of them, and each then logs its own).
TELLING = re.compile(r"^(?:[EF]\d{4} |\w*(?:Error|Exception)\b)|ABORTED|DEADLINE_EXCEEDED|UNAVAILABLE|Check failed")


def _check(done: subprocess.CompletedProcess[str], rank: int) -> None:
    if done.returncode != 0:
        said = _telling(done.stderr)
        raise ToolFailed(f"distributed check, rank {rank}: exit {done.returncode}: {grammar.printable(said)[:300]}")


def _telling(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()] or ["no output"]
    return grammar.printable(next((line for line in lines if TELLING.search(line)), lines[-1]))


# JAX's rendezvous failing before any collective ran: XLA's coordination service (the coordinator, rank 0) or its
# agent (every rank) logs it. Seen on a loaded 2-core test cluster: a rank that registered twice, its first
# answer too slow ("connect with a different incarnation", "already in error"); a second rendezvous then met.
RENDEZVOUS_FAILED = re.compile(r"coordination_service(?:_agent)?\.cc:\d+\]")
RETRY_OFFSET = 20000  # the second port: 40000-59999, never another job's first (20000-39999)


def _run_rank(python: Path, script: Path, rendezvous: Rendezvous, sizes: str,
              env: dict[str, str]) -> subprocess.CompletedProcess[str]:  # fmt: skip
    argv = [str(python), "-I", str(script), rendezvous.coordinator, str(rendezvous.ranks), str(rendezvous.rank)]
    return subprocess.run([*argv, sizes], env=env, capture_output=True, text=True, timeout=1800)


def _result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise ToolFailed("distributed check: rank 0 printed no result") from None
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def verdict(result: dict[str, Any], where: str) -> tuple[Status, list[str]]:
    """The cluster's verdict and a line per rank; the slowest rank is named."""
    ranks = result["ranks"]
    tolerance = float(result["tolerance"])
    lines = []
    for entry in ranks:
        largest = entry["bandwidth"][-1]
        lines.append(f"rank {entry['rank']} ({grammar.printable(str(entry['node']))[:64]}): all-reduce "
                     f"{'exact' if entry['correct'] else 'WRONG'}; busbw {largest['busbw_gbs']:.2f} GB/s at "
                     f"{largest['bytes'] >> 20} MB; DDP loss after {result['steps']} steps "
                     f"{entry['ddp']['loss']:.6g} vs {entry['ddp']['reference']:.6g} one-process "
                     f"(relative difference {entry['ddp']['difference']:.1e}, at most {tolerance:.0e})")  # fmt: skip
    slowest = min(ranks, key=lambda e: e["bandwidth"][-1]["busbw_gbs"])
    backend = ranks[0]["backend"]
    link = ("gloo over TCP: no published peak; compare with `provision verify --distributed` on one host "
            "(loopback)" if backend == "cpu" else
            "link peaks: " + ", ".join(f"{name} {peak:.0f} GB/s" for name, peak in LINK_PEAKS_GBS.items()))  # fmt: skip
    lines.append(f"slowest: rank {slowest['rank']} ({grammar.printable(str(slowest['node']))[:64]}), "
                 f"busbw {slowest['bandwidth'][-1]['busbw_gbs']:.2f} GB/s; {link}")  # fmt: skip
    passed = all(e["correct"] and e["ddp"]["difference"] <= tolerance for e in ranks)
    status = Status.PASS if passed else Status.FAIL
    lines.append(f"distributed: {status.value} across {len(ranks)} ranks ({where}, {backend})")
    return status, lines


def save(result: dict[str, Any], folder: Path, name: str) -> Path:
    from ..files import write_atomic

    path = folder / f"distributed-{name}.json"
    write_atomic(path, json.dumps(result, indent=1, sort_keys=True) + "\n")
    return path


def verify_distributed(subject: Subject, ranks: int, report_dir: Path | None, show: bool) -> Status:
    """Run the check in `subject`'s environment; rank 0 says the verdict (and saves it), others are silent."""
    framework = next((f for f in subject.benchmarks() if f in SCRIPTS), None)
    if framework is None:
        raise ProvisionError(f"{subject.label}: --distributed runs the collectives of jax or torch, and this "
                             "environment's acceptance has neither (acceptance.benchmarks)")  # fmt: skip
    python, env = subject.require_python(), subject.env
    rendezvous = from_slurm(dict(os.environ))
    if show and (rendezvous is None or rendezvous.rank == 0):
        print(f"distributed: {rendezvous.ranks if rendezvous else ranks} ranks of {framework}, all-reduce over "
              f"{', '.join(f'{s} MB' for s in SIZES_MB)} and a DDP step", file=sys.stderr, flush=True)  # fmt: skip
    result = run_ranks(python, env, rendezvous, ranks, framework)
    if result is None:
        return Status.PASS  # not rank 0: rank 0 holds every rank's figures and says the verdict
    status, lines = verdict(result, rendezvous.where if rendezvous else "this host")
    if show:
        print("\n".join(lines), flush=True)
    if report_dir is not None:
        saved = save({**result, "verdict": status.value, "profile": subject.name}, report_dir, subject.name)
        if show:
            print(f"saved {saved}", flush=True)
    return status
