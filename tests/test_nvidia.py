"""NVIDIA facts from real `nvidia-smi` outputs (tests/data/fixtures/nvidia-smi, with provenance), and
the driver checked against a lock's CUDA runtime before anything changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provision.lock.records import LockedPackage
from provision.lock.variant import cuda_runtime
from provision.machine.nvidia import CUDA_OF_DRIVER, cuda_of_driver, driver_problem, parse_nvidia

from .conftest import DATA, REPO

SMI = DATA / "fixtures" / "nvidia-smi"

# What each file shows, read by eye from the file and its PROVENANCE.md row:
# driver, CUDA, GPU count, first GPU's name, its memory (MiB) and compute capability.
EXPECTED = {
    "h100-80gb-hbm3-535.104-table.txt": ("535.104.12", "12.2", 1, "NVIDIA H100 80GB HBM3", 81559, None),
    "h100-sxm-565.57-x8-table.txt": ("565.57.01", "12.7", 8, "NVIDIA H100 80GB HBM3", 81559, None),
    "h100-nvl-550.54-x2-table.txt": ("550.54.14", "12.4", 2, "NVIDIA H100 NVL", 95830, None),
    "h200-590.48-table.txt": ("590.48.01", "13.1", 1, "NVIDIA H200", 143771, None),
    "h200-590.48-query-full.txt": ("590.48.01", "13.1", 1, "NVIDIA H200", 143771, None),
    "h200-590.48-query-csv.txt": ("590.48.01", None, 1, "NVIDIA H200", 143771, "9.0"),
    "a100-sxm4-80gb-555.42-x4-table.txt": ("555.42.02", "12.5", 4, "NVIDIA A100-SXM4-80GB", 81920, None),
    "a100-sxm4-80gb-555.42-x4-query-full.txt": ("555.42.02", "12.5", 4, "NVIDIA A100-SXM4-80GB", 81920, None),
    "l4-550.90-query-full.txt": ("550.90.07", "12.4", 1, "NVIDIA L4", 23034, None),
    "rtx3090-560.35-x2-table.txt": ("560.35.03", "12.6", 2, "NVIDIA GeForce RTX 3090", 24576, None),
    "rtx4090-550.127-x8-table.txt": ("550.127.05", "12.4", 8, "NVIDIA GeForce RTX 4090", 24564, None),
    "rtx4080-super-595.71-table.txt": ("595.71.05", "13.2", 1, "NVIDIA GeForce RTX 4080", 16376, None),
    "rtx4080-super-595.71-query-csv.txt": ("595.71.05", None, 1, "NVIDIA GeForce RTX 4080 SUPER", 16376, "8.9"),
    "rtx2070-460.39-table.txt": ("460.39", "11.2", 1, "GeForce RTX 2070", 7973, None),
    "geforce-16gb-470.63-table.txt": ("470.63.01", "11.4", 1, "NVIDIA GeForce", 16116, None),
    "titan-xp-450.57-table.txt": ("450.57", "11.0", 1, "TITAN Xp", 12196, None),
    "titan-v-rtx5880ada-570.86-query-csv.txt": ("570.86.15", None, 2, "NVIDIA TITAN V", None, "7.0"),
    "sm89-525.89-query-csv.txt": (None, None, 1, "GPU 0", None, "8.9"),
}


def test_every_fixture_has_an_expectation() -> None:
    assert {p.name for p in SMI.glob("*.txt")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_nvidia_smi_outputs_parse(name: str) -> None:
    text = (SMI / name).read_text()
    facts = parse_nvidia("", text) if "csv" in name else parse_nvidia(text)
    driver, cuda, count, first, memory, capability = EXPECTED[name]
    # A csv query prints no CUDA version: it is taken from the driver's branch (NVIDIA's table).
    assert (facts.driver, facts.cuda, len(facts.gpus)) == (driver, cuda or cuda_of_driver(driver), count)
    gpu = facts.gpus[0]
    assert (gpu.name, gpu.memory_mib, gpu.compute_capability) == (first, memory, capability)


def test_the_cuda_of_a_driver_branch_never_exceeds_what_nvidia_smi_reports() -> None:
    """Every output that prints its CUDA version checks the table: equal where the toolkit release is a row,
    lower where the driver reports a release the table lacks (12.7, 13.1, 13.2), never higher."""
    from packaging.version import Version

    reported = {e[0]: e[1] for e in EXPECTED.values() if e[0] and e[1]}
    assert len(reported) >= 10
    for driver, cuda in reported.items():
        derived = cuda_of_driver(driver)
        assert derived is not None and Version(derived) <= Version(cuda), (driver, derived, cuda)
        if cuda in {c for _, c in CUDA_OF_DRIVER}:
            assert derived == cuda, driver
    assert [cuda_of_driver(d) for d in ("590.48.01", "565.57.01", "440.33", None)] == ["13.0", "12.6", None, None]
    h200 = parse_nvidia("", (SMI / "h200-590.48-query-csv.txt").read_text())
    assert h200.cuda == "13.0"  # csv alone: the cuda variant is planned on it (see chip answers)


def test_the_second_gpu_of_a_mixed_machine_is_its_own() -> None:
    facts = parse_nvidia("", (SMI / "titan-v-rtx5880ada-570.86-query-csv.txt").read_text())
    assert [(g.name, g.compute_capability) for g in facts.gpus] == [
        ("NVIDIA TITAN V", "7.0"), ("NVIDIA RTX 5880 Ada Generation", "8.9")
    ]  # fmt: skip


def _pkg(name: str, version: str, manager: str = "conda") -> LockedPackage:
    return LockedPackage(name=name, version=version, manager=manager, platform="linux-64",  # type: ignore[arg-type]
                         url=f"https://x.org/{name}-{version}.conda", sha256="0" * 64)  # fmt: skip


def test_the_lock_names_its_cuda_runtime_in_each_layer() -> None:
    assert cuda_runtime([_pkg("cuda-version", "12.9")]) == ("12.9", "cuda-version")
    assert cuda_runtime([_pkg("nvidia-cuda-runtime-cu12", "12.8.90", "pip")]) == ("12.8.90", "nvidia-cuda-runtime-cu12")
    assert cuda_runtime([_pkg("torch", "2.7.1+cu118", "pip")]) == ("11.8", "torch 2.7.1+cu118")
    assert cuda_runtime([_pkg("numpy", "2.3.0")]) is None


def test_a_driver_runs_its_own_cuda_major_and_refuses_a_newer_one() -> None:
    assert driver_problem("12.9", "cuda-version", "12.2", "535.104.12") is None  # minor version compatibility
    line = driver_problem("13.0", "cuda-version", "12.4", "550.54.14")
    assert line is not None and "supports CUDA 12.4 at most" in line and "580.65.06 or newer" in line
    assert "'cuda-version 12.*'" in line


def _facts_folder(tmp_path: Path, table: str | None) -> Path:
    """A Linux host's facts folder as `doctor --save-facts` writes it, with a real nvidia-smi output."""
    folder = tmp_path / "facts"
    folder.mkdir(parents=True)
    (folder / "python.txt").write_text(json.dumps({"system": "Linux", "machine": "x86_64", "libc": ["glibc", "2.36"]}))
    (folder / "environment.txt").write_text("{}")
    (folder / "disk.txt").write_text(json.dumps({"free": 500 * 10**9}))
    (folder / "meminfo.txt").write_text("MemTotal:       263855456 kB\n")
    if table is not None:
        shutil.copy(SMI / table, folder / "nvidia-smi.txt")
    return folder


def test_a_driver_too_old_for_the_lock_refuses_before_any_change(tmp_path: Path, run_cli) -> None:
    """torch-linux's cuda lock holds cuda-version 12.9; a 470 driver (CUDA 11.4) cannot run it."""
    facts = _facts_folder(tmp_path, "geforce-16gb-470.63-table.txt")
    prefix = tmp_path / "env"
    result = run_cli("--root", str(REPO), "plan", "torch-linux", "--variant", "cuda", "--facts", str(facts),
                     "--prefix", str(prefix))  # fmt: skip
    assert result.code == 3
    assert "note: variant cuda (--variant)" in result.err
    assert "the NVIDIA driver supports CUDA 11.4, the profile needs 12.4" in result.err + result.out
    assert "the lock's CUDA runtime is 12.9 (cuda-version), but this machine's NVIDIA driver 470.63.01 supports" \
        in result.err + result.out  # fmt: skip
    assert not prefix.exists()


def test_a_new_enough_driver_plans_the_cuda_lock(tmp_path: Path, run_cli) -> None:
    facts = _facts_folder(tmp_path, "h100-nvl-550.54-x2-table.txt")  # CUDA 12.4: what the cuda variant requires
    result = run_cli("--root", str(REPO), "plan", "torch-linux", "--facts", str(facts), "--prefix", str(tmp_path / "e"))
    assert result.code == 0, result.out + result.err
    assert "preflight:" not in result.err + result.out and "CUDA runtime" not in result.err + result.out
    assert "note: variant cuda: the NVIDIA driver 550.54.14 supports CUDA 12.4 (needs 12.4)" in result.err
    assert result.out.startswith("torch-linux (cuda) -> ")


def test_the_variant_follows_the_driver(tmp_path: Path, run_cli) -> None:
    """One profile, two variants: no driver or one too old plans cpu and says why in one line; the plan then
    holds the cpu lock's pytorch build. --variant forces one."""
    from provision.lock.lockfile import read_lock

    cpu_build = next(p.build for p in read_lock(REPO / "envs/torch-linux/cpu/conda-lock.yml").packages
                     if p.name == "pytorch")  # fmt: skip
    for name, table, why in [
        ("none", None, "cuda needs an NVIDIA driver supporting CUDA 12.4, none was found (nvidia-smi)"),
        ("old", "geforce-16gb-470.63-table.txt", "cuda needs a driver supporting CUDA 12.4, this driver 470.63.01 "
         "supports 11.4"),
    ]:  # fmt: skip
        facts = _facts_folder(tmp_path / name, table)
        result = run_cli("--root", str(REPO), "plan", "torch-linux", "--facts", str(facts), "--json",
                         "--prefix", str(tmp_path / name / "e"))  # fmt: skip
        assert result.code == 0, result.out + result.err
        plan = json.loads(result.out)
        assert plan["target"] == "torch-linux (cpu)" and plan["preflight_problems"] == []
        said = run_cli("--root", str(REPO), "plan", "torch-linux", "--facts", str(facts))
        assert f"note: variant cpu: {why} (--variant cuda to take it anyway)" in said.err, said.err
    listed = run_cli("--root", str(REPO), "export", "torch-linux", "--variant", "cpu", "--format", "explicit")
    assert listed.code == 0, listed.err
    assert f"/pytorch-2.8.0-{cpu_build}.conda#" in listed.out and "cuda129" not in listed.out
    wrong = run_cli("--root", str(REPO), "plan", "torch-linux", "--variant", "rocm")
    assert wrong.code == 1 and "no variant 'rocm'; torch-linux has cuda, cpu" in wrong.err


def test_fit_uses_the_memory_of_the_machine_it_is_for(tmp_path: Path, run_cli) -> None:
    """GPU memory on a CUDA host, system memory on a CPU host, unified memory only on Apple silicon."""
    gpus = _facts_folder(tmp_path / "gpu", "h100-sxm-565.57-x8-table.txt")
    on_gpus = run_cli("fit", "--model", "deepseek-r1", "--bits", "4", "--facts", str(gpus))
    assert on_gpus.code == 0, on_gpus.err
    assert "GPU memory  " in on_gpus.out and "8 x 85.5 GB (NVIDIA H100 80GB HBM3)" in on_gpus.out
    assert "unified" not in on_gpus.out and "wired" not in on_gpus.out
    cpu = _facts_folder(tmp_path / "cpu", None)
    on_cpu = run_cli("fit", "--params", "13B", "--bits", "8", "--facts", str(cpu))
    assert "system memory (no GPU here" in on_cpu.out and "unified" not in on_cpu.out and "GPU limit" not in on_cpu.out
    mac = run_cli("fit", "--model", "deepseek-r1", "--chip", "Apple M3 Ultra")
    assert mac.code == 2 and "comes with up to 512 GB of unified memory" in mac.err
    both = run_cli("fit", "--model", "deepseek-r1", "--bits", "4", "--chip", "Apple M3 Ultra", "--memory", "512GB")
    assert "published 4-bit size" in both.out and "--params would estimate 377.4 GB" in both.out
