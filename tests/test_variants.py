"""One profile, CPU and GPU variants: locked together as a solve group, chosen by the host at apply,
named by every command that shows an environment. The end-to-end test locks and applies for real
(a file:// channel of tiny conda packages and local wheels, tests/world.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from provision.apply.stamp import read_stamp
from provision.lock.lockfile import read_lock

from . import builders
from .world import E2E


def _variant_profile(world: E2E) -> None:
    """Base asks for any provtest-tool and provtest-hello; the gpu variant (the solve group's reference, declared
    first) pins tool 1.* and hello 1.0, so an unconstrained cpu solve would take tool 2.0 and hello 2.0."""
    (world.root / "profiles" / "e2e.yaml").write_text(
        f'name: e2e\nplatforms: [linux-64]\npython: "{sys.version_info[0]}.{sys.version_info[1]}"\n'
        f'channels: ["{builders.file_uri(world.channel)}"]\nconda: ["provtest-tool"]\n'
        f'pypi:\n  packages: ["provtest-hello"]\n  index_url: "{builders.file_uri(world.tmp / "index")}"\n'
        f'  find_links: ["{world.tmp / "wheels"}"]\nenv:\n  PROVTEST: base\n'
        "variants:\n"
        "  gpu:\n    conda: ['provtest-tool 1.*']\n    pypi:\n      packages: ['provtest-hello==1.0']\n"
        "    requires:\n      cuda_driver: '12.4'\n    env:\n      PROVTEST: gpu\n"
        "  cpu:\n    pypi:\n      packages: ['provtest-extra==1.0']\n    env:\n      PROVTEST: cpu\n"
    )


def _versions(path: Path) -> dict[str, str]:
    return {p.name: p.version for p in read_lock(path).packages}


def test_variants_lock_as_a_solve_group_and_apply_by_host(tmp_path: Path) -> None:
    world = E2E(tmp_path)
    _variant_profile(world)
    locked = world.run("lock", "e2e")
    assert locked.returncode == 0, locked.stderr
    gpu, cpu = (_versions(world.root / "envs" / "e2e" / v / "conda-lock.yml") for v in ("gpu", "cpu"))
    assert gpu["provtest-tool"] == cpu["provtest-tool"] == "1.0"  # conda: the reference's version, not 2.0
    assert gpu["provtest-hello"] == cpu["provtest-hello"] == "1.0"  # PyPI: the same through uv's --constraint
    assert "provtest-extra" in cpu and "provtest-extra" not in gpu
    assert world.run("render", "e2e").returncode == 0
    assert sorted(str(p.relative_to(world.root)) for p in (world.root / "envs").rglob("*") if p.is_file()) == [
        "envs/e2e/Brewfile", "envs/e2e/cpu/conda-lock.yml", "envs/e2e/cpu/environment.yml",
        "envs/e2e/gpu/conda-lock.yml", "envs/e2e/gpu/environment.yml",
    ]  # fmt: skip
    assert world.run("lock", "e2e", "--check").returncode == 0

    # This machine has no NVIDIA driver: cpu, said in one line with the way to the other.
    applied = world.run("apply", "e2e")
    assert applied.returncode == 0, applied.stderr
    assert ("note: variant cpu: gpu needs an NVIDIA driver supporting CUDA 12.4, none was found (nvidia-smi) "
            "(--variant gpu to take it anyway)") in applied.stderr  # fmt: skip
    assert f"e2e (cpu): applied to {world.prefix}" in applied.stdout
    assert world.in_env("import os, provtest_extra; print(os.environ['PROVTEST'])") == "cpu"
    stamp = read_stamp(world.prefix)
    assert stamp is not None and stamp.variant == "cpu"
    status = world.run("status", "e2e", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["variant"] == "cpu"
    again = world.run("apply", "e2e")
    assert again.returncode == 0 and "e2e (cpu): up to date" in again.stdout

    # A driver for CUDA 12.4 (told, as a login node preparing a GPU node would): the gpu variant replaces it.
    gpu_apply = world.run("apply", "e2e", extra={"CONDA_OVERRIDE_CUDA": "12.4"})
    assert gpu_apply.returncode == 0, gpu_apply.stderr
    assert "note: variant gpu: the NVIDIA driver supports CUDA 12.4 (needs 12.4)" in gpu_apply.stderr
    assert world.in_env("import os; print(os.environ['PROVTEST'])") == "gpu"  # run takes the installed variant
    assert world.in_env("import importlib.util; print(importlib.util.find_spec('provtest_extra'))") == "None"
    status = world.run("status", "e2e")
    assert status.returncode == 0 and "e2e (gpu): the environment is exactly the lock" in status.stdout
    forced = world.run("apply", "e2e", "--variant", "cpu")
    assert forced.returncode == 0 and "note: variant cpu (--variant)" in forced.stderr
    assert read_stamp(world.prefix).variant == "cpu"  # type: ignore[union-attr]

    # A variant's lock edited by hand so that a shared package differs: the group check says so.
    cpu_lock = world.root / "envs/e2e/cpu/conda-lock.yml"
    edited = re.sub(r"(name: provtest-tool\n  version: )'?1\.0'?", r"\g<1>'1.1'", cpu_lock.read_text(), count=1)
    assert "'1.1'" in edited
    cpu_lock.write_text(edited)
    check = world.run("lock", "e2e", "--check")
    assert check.returncode == 1 and "variants disagree (provtest-" in check.stdout, check.stdout


def test_a_variant_is_held_to_the_profile_rules(project: Path, run_cli) -> None:
    path = project / "profiles" / "torch-linux.yaml"
    original = path.read_text()
    cases = {
        "  rocm!:\n    description: x\n": "is not a valid variant name",
        "  rocm:\n    platform: [linux-64]\n": "unknown key 'platform'",
        "  rocm:\n    targets:\n      osx-arm64:\n        conda: [numpy]\n":
            "variant rocm: osx-arm64 is not in platforms",
    }
    for added, said in cases.items():
        path.write_text(original + added)
        result = run_cli("--root", str(project), "show", "torch-linux")
        assert result.code == 1, added
        assert said in result.err and "profiles/torch-linux.yaml:" in result.err, result.err
    path.write_text(original)
    shown = run_cli("--root", str(project), "lock", "torch-linux", "--check")
    assert shown.code == 0 and "torch-linux/cpu" in shown.out and "torch-linux/cuda" in shown.out


def test_advice_repeats_only_a_variant_the_user_forced() -> None:
    from provision.apply.target import target_for_profile
    from provision.machine.facts import HostFacts
    from provision.project import Project

    from .conftest import REPO

    host = HostFacts(system="Linux", machine="x86_64", subdir="linux-64")  # no NVIDIA driver
    chosen = target_for_profile(Project(REPO), "torch-linux", None, "linux-64", host=host)
    assert chosen.variant == "cpu" and "--variant cuda to take it anyway" in chosen.variant_reason
    assert chosen.apply_command == "provision apply torch-linux"
    forced = target_for_profile(Project(REPO), "torch-linux", None, "linux-64", host=host, variant="cuda")
    assert forced.variant == "cuda" and forced.apply_command == "provision apply torch-linux --variant cuda"
