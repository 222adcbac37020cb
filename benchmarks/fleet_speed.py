"""The fleet path, timed end to end with the real components (as root, with tests/run-all's tools):
pack linux-cpu, apply it on a "bare node" (python3 only, no network: `unshare -n python3 PACK apply`),
build the exported image with podman (no network) and run its acceptance check, and run the exported
Slurm job on a single-node slurmd (tests/services.sh). Run: python benchmarks/fleet_speed.py"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVISION = str(Path(sys.executable).parent / "provision")
SERVICES = str(REPO / "tests" / "services.sh")
BARE_PYTHON = str(Path(sys.base_prefix) / "bin" / "python3")


def timed(label: str, argv: list[str], env: dict[str, str], **kw: object) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800, **kw)  # type: ignore[call-overload]
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{label} failed ({done.returncode}): {done.stderr[-1500:]}")
    print(f"{label:<58} {took:6.1f} s", flush=True)
    return took


def exports(command: str, env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(["bash", SERVICES, command], env=env, capture_output=True, text=True, check=True).stdout
    return {**env, **dict(line[7:].split("=", 1) for line in out.splitlines() if line.startswith("export "))}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fleet-speed-") as folder:
        root = Path(folder)
        env = {**os.environ, "PROVISION_HOME": str(root / "home"), "PROVISION_SERVICES": str(root / "services")}
        pack = root / "linux-cpu.pack"
        make = [PROVISION, "--root", str(REPO), "pack", "linux-cpu", "--platform", "linux-64", "-o", str(pack)]
        timed("pack linux-cpu (warm cache)", make, env)
        print(f"{'pack size':<58} {pack.stat().st_size / 1e6:6.1f} MB")
        bare = {"PATH": "/usr/bin:/bin", "HOME": str(root / "node"), "TMPDIR": str(root)}
        node = ["unshare", "-n", BARE_PYTHON, "-I", str(pack), "apply", "--prefix", str(root / "env"), "--yes"]
        timed("bare node, no network: python3 PACK apply (with acceptance)", node, bare)
        timed("  the same, --no-verify (install only)", [*node[:-1], "--prefix", str(root / "env2"), "--no-verify"],
              bare)  # fmt: skip

        podman = exports("podman-env", env)
        subprocess.run(["podman", "rmi", "-f", "localhost/provision-base:bookworm"], env=podman, capture_output=True)
        timed("base image: debootstrap minbase + python3, podman import", ["bash", SERVICES, "podman-base"], podman)
        context = root / "image"
        timed("export --format dockerfile (Dockerfile + pack)", [PROVISION, "--root", str(REPO), "export",
              "linux-cpu", "--format", "dockerfile", "--output", str(context)], env)  # fmt: skip
        image = "localhost/provision-fleet-speed"
        timed("podman build --network=none", ["podman", "build", "--network=none", "--build-arg",
              "BASE=localhost/provision-base:bookworm", "-t", image, str(context)], podman)  # fmt: skip
        timed("podman run --network=none (acceptance check)", ["podman", "run", "--rm", "--network=none", image],
              podman)  # fmt: skip
        subprocess.run(["podman", "rmi", "-f", image], env=podman, capture_output=True)

        slurm = exports("slurm-start", env)
        try:
            job = root / "job"
            timed("export --format slurm", [PROVISION, "--root", str(REPO), "export", "linux-cpu", "--format",
                  "slurm", "--output", str(job)], env)  # fmt: skip
            node_env = {**slurm, "PATH": "/usr/bin:/bin", "PROVISION_PACK": str(pack), "TMPDIR": str(root),
                        "PROVISION_PREFIX": str(root / "slurm-env")}  # fmt: skip
            timed("sbatch --wait (apply from the pack + verify --report)", ["sbatch", "--wait", "--nodes=1",
                  f"--output={job}/job-%j.out", str(job / "provision.sbatch")], node_env, cwd=job)  # fmt: skip
            timed("provision report", [PROVISION, "report", str(job / "reports")], env)
        finally:
            subprocess.run(["bash", SERVICES, "slurm-stop"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
