"""Host facts from real outputs of Apple machines (tests/data/fixtures/mac) and this Linux box,
and the preflight decisions made from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.apply.preflight import disk_problem, host_problems, host_warnings
from provision.machine.facts import HostFacts, parse_cuda_version, parse_facts, parse_gpus, parse_sysctl, this_host

from .conftest import make_profile

MAC = Path(__file__).resolve().parent / "data" / "fixtures" / "mac"


def mac_facts(sysctl_file: str, machine: str, extra: str = "") -> HostFacts:
    text = (MAC / "sysctl" / sysctl_file).read_text() + extra
    return parse_facts(
        {"python": json.dumps({"system": "Darwin", "machine": machine, "libc": ["", ""]}), "sysctl": text}
    )


@pytest.fixture(autouse=True, scope="module")
def _fixtures() -> None:
    if not MAC.is_dir():
        pytest.fail(f"{MAC} is missing")


def test_m2_monterey() -> None:
    facts = mac_facts("m2-monterey.txt", "arm64")
    assert facts.chip == "Apple M2" and facts.apple_silicon and not facts.translated
    assert facts.memory_bytes == 17179869184 and facts.subdir == "osx-arm64"


def test_m1_big_sur_reports_apple_processor() -> None:
    facts = mac_facts("m1-bigsur.txt", "arm64")
    assert facts.chip == "Apple processor" and facts.apple_silicon


def test_rosetta_is_detected_and_refused_with_the_fix() -> None:
    translated = (MAC / "outputs" / "sysctl-proc-translated.txt").read_text().splitlines()[-1]
    facts = mac_facts("rosetta2-on-m1-monterey.txt", "x86_64", "\n" + translated + "\n")
    assert facts.translated and facts.apple_silicon and facts.subdir == "osx-64"
    problems = host_problems(make_profile(requires={"arm64_native": True}).requires, facts, ["osx-arm64"])
    assert len(problems) == 1 and "Rosetta" in problems[0] and "native arm64 Python" in problems[0]
    # `arm64_native: false` really allows the x86 interpreter: no problem, a warning, and the
    # environment is still built for the hardware (osx-arm64).
    lenient = make_profile(requires={"arm64_native": False})
    assert host_problems(lenient.requires, facts, ["osx-arm64"]) == []
    assert "Rosetta" in host_warnings(lenient.requires, facts, ["osx-arm64"])[0]
    assert facts.target_subdir == "osx-arm64"


def test_intel_mac_is_not_apple_silicon() -> None:
    facts = mac_facts("intel-skylake-mojave.txt", "x86_64")
    assert not facts.apple_silicon and not facts.translated
    assert "this machine is osx-64" in host_problems(make_profile().requires, facts, ["osx-arm64"])[0]


def test_macos_and_memory_minimums() -> None:
    facts = mac_facts("m2-monterey.txt", "arm64", "\nkern.osproductversion: 12.7.6\n")
    profile = make_profile(requires={"macos": "14.0", "memory_gb": 32})
    problems = host_problems(profile.requires, facts, ["osx-arm64"])
    assert any("macOS 12.7.6 is older than the 14.0" in p for p in problems)
    assert any("17.2 GB of memory, the profile needs 32 GB" in p for p in problems)
    assert host_problems(make_profile(requires={"macos": "12.0"}).requires, facts, ["osx-arm64"]) == []


def test_sysctl_parser_takes_both_separators() -> None:
    assert parse_sysctl("hw.memsize: 8\niogpu.wired_limit_mb = 0\n") == {"hw.memsize": "8", "iogpu.wired_limit_mb": "0"}


def test_nvidia_outputs_and_cuda_requirement() -> None:
    header = "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4     |"
    assert parse_cuda_version(header) == "12.4"
    assert parse_gpus("NVIDIA H100 80GB HBM3, 81559, 550.54.15\n")[0].memory_mib == 81559
    linux = {"python": json.dumps({"system": "Linux", "machine": "x86_64", "libc": ["glibc", "2.36"]})}
    profile = make_profile(platforms=["linux-64"], requires={"cuda_driver": "12.4"})
    assert "no NVIDIA driver found" in host_problems(profile.requires, parse_facts(linux), ["linux-64"])[0]
    old = parse_facts({**linux, "nvidia-smi": header.replace("12.4", "11.8")})
    assert "supports CUDA 11.8" in host_problems(profile.requires, old, ["linux-64"])[0]
    assert host_problems(profile.requires, parse_facts({**linux, "nvidia-smi": header}), ["linux-64"]) == []


def test_this_linux_machine() -> None:
    facts = this_host()
    assert facts.system == "Linux" and facts.subdir in ("linux-64", "linux-aarch64")
    assert facts.memory_bytes and facts.memory_bytes > 1e9 and facts.glibc


def test_disk_check() -> None:
    assert disk_problem(10**9, 10**9) is not None and "free some disk space" in disk_problem(10**9, 10**9)
    assert disk_problem(10**9, 10**10) is None
    assert disk_problem(None, 0) is None
    # /proc and /sys report no blocks at all: not "free some disk space"
    import shutil

    proc = shutil.disk_usage("/proc")
    assert disk_problem(10**9, proc.free, proc.total, "/proc/env") == (
        "/proc/env is on a filesystem that stores nothing (such as /proc or /sys); pass --prefix on a disk")
