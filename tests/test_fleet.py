"""The fleet, with the real components: an image built by podman from the exported Dockerfile and
its pack (no network while building or running), and the exported Slurm job run by a real slurmd,
whose per-node report `provision report` reads. tests/services.sh starts both, as for developers."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .world import PROVISION

SERVICES = REPO / "tests" / "services.sh"
IMAGE = "localhost/provision-test-linux-cpu"

# One worker holds each service (`--dist loadgroup`): podman's image test on one, the Slurm cluster's two jobs on
# another (they share its daemons), so the image is built while the jobs run; each worker exports its own context.
pytestmark = [pytest.mark.network, pytest.mark.slow]
PODMAN, SLURM = pytest.mark.xdist_group("podman"), pytest.mark.xdist_group("slurm")


def services(command: str, env: dict[str, str]) -> dict[str, str]:
    """Run tests/services.sh COMMAND; the `export NAME=VALUE` lines it prints go into the env."""
    if os.geteuid() != 0:
        pytest.fail("the fleet tests run slurmd and podman as root (CI runs as root)")
    done = subprocess.run(["bash", str(SERVICES), command], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    exports = [line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines()
               if line.startswith("export ")]  # fmt: skip
    return {**env, **dict(exports)}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fleet")


@pytest.fixture(scope="module")
def env(home: Path) -> dict[str, str]:
    return {**os.environ, "PROVISION_HOME": str(home / "provision"), "PROVISION_SERVICES": str(home / "services"),
            "UV_CACHE_DIR": str(home / "uv")}  # fmt: skip


@pytest.fixture(scope="module")
def context(home: Path, env: dict[str, str]) -> Path:
    """`provision export linux-cpu --format dockerfile`: the Dockerfile and the pack it COPYs."""
    out = home / "image"
    done = subprocess.run([PROVISION, "--root", str(REPO), "export", "linux-cpu", "--format", "dockerfile",
                           "--output", str(out)], env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "Dockerfile").is_file() and (out / "linux-cpu-linux-64.pack").is_file()
    return out


@PODMAN
def test_the_exported_image_builds_and_runs_its_acceptance_check_with_no_network(
    context: Path, env: dict[str, str]
) -> None:
    podman = services("podman-base", services("podman-env", env))
    base = "localhost/provision-base:bookworm"
    built = subprocess.run(["podman", "build", "--network=none", "--build-arg", f"BASE={base}", "-t", IMAGE,
                            str(context)], env=podman, capture_output=True, text=True, timeout=900)  # fmt: skip
    try:
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        assert "from the pack: 6 packages, each checked against the lock's hashes" in built.stderr + built.stdout
        # The image's own command, its acceptance made the short run through the environment (two cores here).
        ran = subprocess.run(["podman", "run", "--rm", "--network=none", "-e", "PROVISION_VERIFY=quick", IMAGE],
                             env=podman, capture_output=True, text=True, timeout=600)  # fmt: skip
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        assert "PASS linux-cpu (/opt/env)" in ran.stdout
    finally:
        subprocess.run(["podman", "rmi", "-f", IMAGE], env=podman, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def slurm(env: dict[str, str]) -> Iterator[dict[str, str]]:
    started = services("slurm-start", env)
    try:
        yield started
    finally:
        services("slurm-stop", env)


NODES = ["n1", "n2", "n3"]  # tests/services.sh starts three slurmd on this machine


def _submit(script: Path, job: Path, env: dict[str, str]) -> str:
    """Submit and wait for the job's end. Asked every half second: `sbatch --wait` doubles its own interval
    (up to half a minute), so a 40 s job was seen to end at 43 s or at 75 s depending on where it fell."""
    argv = ["sbatch", "--parsable", f"--nodes={len(NODES)}", f"--output={job}/job-%j.out", str(script)]
    submitted = subprocess.run(argv, cwd=job, env=env, capture_output=True, text=True, timeout=60)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip().split(";")[0]
    deadline, state = time.monotonic() + 900, ""
    while time.monotonic() < deadline:
        shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], env=env, capture_output=True, text=True,
                               timeout=30)  # fmt: skip
        state = next((f.split("=", 1)[1] for f in shown.stdout.split() if f.startswith("JobState=")), "")
        if state and state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING"):
            break
        time.sleep(0.5)
    else:
        subprocess.run(["scancel", job_id], env=env, capture_output=True, timeout=30)  # never left running
    logs = "".join(p.read_text() for p in job.glob("job-*.out"))
    assert state == "COMPLETED", f"job {job_id}: {state or 'no state'}\n{logs[-3000:]}"
    return logs


def _report(job: Path, env: dict[str, str]) -> list[dict[str, object]]:
    shown = subprocess.run([PROVISION, "report", str(job / "reports")], env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert all(node in shown.stdout for node in NODES) and "PASS" in shown.stdout and "exact" in shown.stdout
    table: list[dict[str, object]] = json.loads(subprocess.run(
        [PROVISION, "report", str(job / "reports"), "--json"], env=env, capture_output=True, text=True).stdout)
    return table


@SLURM
def test_the_exported_slurm_job_applies_and_verifies_on_every_node(
    context: Path, slurm: dict[str, str], home: Path
) -> None:
    job = home / "job"
    made = subprocess.run([PROVISION, "--root", str(REPO), "export", "linux-cpu", "--format", "slurm", "--output",
                           str(job)], env=slurm, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    script = job / "provision.sbatch"
    assert os.access(script, os.X_OK) and subprocess.run(["bash", "-n", str(script)]).returncode == 0
    # The nodes see python3 and nothing else: no provision on PATH, the pack brings it. Three nodes on one
    # machine share its folders, as nodes share a network filesystem: {node} keeps their prefixes apart.
    # PROVISION_VERIFY=quick: three nodes share this machine's two cores; the short run measures all the same.
    node_env = {**slurm, "PATH": "/usr/bin:/bin", "PROVISION_PACK": str(context / "linux-cpu-linux-64.pack"),
                "PROVISION_PREFIX": str(home / "node-env" / "{node}"), "TMPDIR": str(home),
                "PROVISION_VERIFY": "quick"}  # fmt: skip
    logs = _submit(script, job, node_env)
    assert (job / "reports" / "expected-nodes.txt").read_text().split() == NODES
    for node in NODES:
        assert (job / "reports" / node / "verify-linux-cpu.json").is_file(), logs[-3000:]
        assert f"{node}: applying linux-cpu into {home / 'node-env' / node}" in logs
    assert sorted(p.name for p in (home / "node-env").iterdir()) == NODES
    table = _report(job, slurm)
    assert sorted((r["machine"], r["device"], r["verdict"]) for r in table) == [(n, "cpu", "PASS") for n in NODES]
    assert all(r["fp32_tflops"] and r["fingerprint"] == table[0]["fingerprint"] for r in table)  # type: ignore[operator]
    # (a fraction of the CPU's static ceiling: a VM's boost clock may run above it, as the source line says)
    # The ranks then worked together: every node's all-reduce exact, the DDP loss the one-process one.
    assert "distributed: PASS across 3 ranks (slurm, cpu)" in logs
    together = json.loads((job / "reports" / "distributed-linux-cpu.json").read_text())
    assert sorted(r["node"] for r in together["ranks"]) == NODES
    assert all(r["correct"] and r["ddp"]["difference"] <= together["tolerance"] for r in together["ranks"])

    # A node the job was given that wrote nothing is named, and the report exits 1.
    with (job / "reports" / "expected-nodes.txt").open("a") as expected:
        expected.write("gpu-node-7\n")
    missing = subprocess.run([PROVISION, "report", str(job / "reports")], env=slurm, capture_output=True, text=True)
    assert missing.returncode == 1 and "never reported: gpu-node-7" in missing.stderr
    assert "NO REPORT" in missing.stdout


@SLURM
def test_a_shared_prefix_is_applied_once_and_checked_on_every_node(
    context: Path, slurm: dict[str, str], home: Path
) -> None:
    """The HPC layout: one environment on a shared filesystem. One task applies it; then every node checks it
    read-only (`status --files`: every file accounted for) and runs the acceptance benchmark in it."""
    job, shared = home / "shared-job", home / "lustre" / "linux-cpu"  # one folder every node reads
    made = subprocess.run([PROVISION, "--root", str(REPO), "export", "linux-cpu", "--format", "slurm", "--output",
                           str(job), "--shared-prefix", str(shared)], env=slurm, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    node_env = {**slurm, "PATH": "/usr/bin:/bin", "PROVISION_PACK": str(context / "linux-cpu-linux-64.pack"),
                "TMPDIR": str(home), "PROVISION_VERIFY": "quick"}  # fmt: skip
    logs = _submit(job / "provision.sbatch", job, node_env)
    assert logs.count(f"applying linux-cpu once into the shared {shared}") == 1, logs[-3000:]
    assert sorted(line.split(":")[0] for line in logs.splitlines() if "checking the shared" in line) == NODES
    assert logs.count("the environment is exactly the lock") == len(NODES)
    table = _report(job, slurm)
    assert sorted(r["machine"] for r in table) == NODES  # type: ignore[type-var]
