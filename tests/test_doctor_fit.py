"""doctor on replayed facts (a real Rosetta Mac's sysctl output) and fit's arithmetic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provision.machine.doctor import diagnose
from provision.machine.facts import parse_facts
from provision.machine.fit import GB, GIB, MODELS, estimated_architecture, inference_fit, training_fit

from .conftest import REPO

MAC = Path(__file__).resolve().parent / "data" / "fixtures" / "mac"


def mac_facts_dir(tmp: Path, sysctl: str, machine: str, extra_sysctl: str = "", **files: str) -> Path:
    """A --facts folder in the layout `doctor --save-facts` writes, built from a real sysctl output."""
    folder = tmp / "facts"
    folder.mkdir()
    (folder / "python.txt").write_text(json.dumps({"system": "Darwin", "machine": machine, "libc": ["", ""]}))
    (folder / "sysctl.txt").write_text((MAC / "sysctl" / sysctl).read_text() + extra_sysctl)
    (folder / "disk.txt").write_text(json.dumps({"free": 200 * 10**9}))
    (folder / "xcode-select.txt").write_text("/Library/Developer/CommandLineTools\n")
    for name, text in files.items():
        (folder / f"{name}.txt").write_text(text)
    return folder


def test_doctor_flags_rosetta_as_an_error_with_the_fix(tmp_path: Path, run_cli) -> None:
    translated = (MAC / "outputs" / "sysctl-proc-translated.txt").read_text().splitlines()[-1]
    folder = mac_facts_dir(tmp_path, "rosetta2-on-m1-monterey.txt", "x86_64", "\n" + translated + "\n",
                           **{"brew-prefix": "/usr/local\n"})  # fmt: skip
    result = run_cli("--root", str(REPO), "doctor", "--facts", str(folder))
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[1].startswith("ERROR    rosetta:") and "native arm64 Python" in lines[2]
    assert any("homebrew: Homebrew lives in /usr/local" in line for line in lines)
    assert "1 error(s): rosetta" in result.err


def test_doctor_on_a_healthy_m2_and_its_profiles(tmp_path: Path, run_cli) -> None:
    folder = mac_facts_dir(tmp_path, "m2-monterey.txt", "arm64", "\nkern.osproductversion: 12.7.6\n",
                           **{"brew-prefix": "/opt/homebrew\n"})  # fmt: skip
    result = run_cli("--root", str(REPO), "doctor", "--facts", str(folder), "--json")
    assert result.code == 0
    report = json.loads(result.out)
    assert report["host"]["chip"] == "Apple M2" and report["host"]["performance_cores"] == 4
    topics = {(f["severity"], f["topic"]) for f in report["findings"]}
    assert ("warning", "macos") in topics  # torch-mps needs 14.0, jax-metal 14.4, ...
    assert not [t for t in topics if t[0] == "error"]


def test_doctor_names_a_stale_project_as_check_would(tmp_path: Path, project: Path, run_cli) -> None:
    """The repository's project is sound (no project finding); an edited profile makes `check` fail and `doctor`
    warn with check's first problem (the host is what doctor judges: a warning, exit 0)."""
    folder = mac_facts_dir(tmp_path, "m2-monterey.txt", "arm64", "\nkern.osproductversion: 14.5\n",
                           **{"brew-prefix": "/opt/homebrew\n"})  # fmt: skip
    shutil.copy(REPO / "conda-lock.yml", project / "conda-lock.yml")  # the bootstrap lock, at the root
    sound = json.loads(run_cli("--root", str(project), "doctor", "--facts", str(folder), "--json").out)
    assert "project" not in {f["topic"] for f in sound["findings"]}
    path = project / "profiles" / "linux-cpu.yaml"
    path.write_text(path.read_text().replace("numpy>=2.0", "numpy>=2.1"))
    checked = run_cli("--root", str(project), "check")
    first = checked.out.splitlines()[0]
    assert checked.code == 1 and first.startswith("render   envs/linux-cpu/environment.yml: out of date")
    result = run_cli("--root", str(project), "doctor", "--facts", str(folder))
    assert result.code == 0
    assert "warning  project: envs/linux-cpu/environment.yml: out of date; run `provision render` (and" in result.out


def test_save_facts_then_replay(tmp_path: Path, run_cli) -> None:
    saved = tmp_path / "saved"
    live = run_cli("--root", str(REPO), "doctor", "--save-facts", str(saved), "--json")
    assert live.code == 0
    assert {"python.txt", "meminfo.txt", "cpuinfo.txt", "disk.txt"} <= {p.name for p in saved.iterdir()}
    replay = run_cli("--root", str(REPO), "doctor", "--facts", str(saved), "--json")
    assert json.loads(replay.out)["host"] == json.loads(live.out)["host"]
    plan = run_cli("--root", str(REPO), "plan", "linux-cpu", "--facts", str(saved), "--json")
    assert plan.code == 0 and json.loads(plan.out)["preflight_problems"] == []


def test_plan_with_mac_facts_lists_the_preflight_problem(tmp_path: Path, run_cli) -> None:
    folder = mac_facts_dir(tmp_path, "m1-bigsur.txt", "arm64", "\nkern.osproductversion: 11.2\n")
    result = run_cli("--root", str(REPO), "plan", "torch-mps", "--facts", str(folder))
    assert result.code == 3  # apply would stop: the plan says so first, and exits non-zero
    assert result.out.startswith("preflight: macOS 11.2 is older than the 14.0 this profile needs; update macOS")
    assert "apply would stop before any change on this machine" in result.err


def test_m1_on_big_sur_chip_falls_back_to_system_profiler(tmp_path: Path) -> None:
    profiler = json.dumps({"SPHardwareDataType": [{"chip_type": "Apple M1", "physical_memory": "8 GB"}]})
    raw = {"python": json.dumps({"system": "Darwin", "machine": "arm64", "libc": ["", ""]}),
           "sysctl": (MAC / "sysctl" / "m1-bigsur.txt").read_text(), "system_profiler-hardware": profiler}  # fmt: skip
    assert parse_facts(raw).chip == "Apple M1"


def test_wired_limit_as_sysctl_prints_a_change() -> None:
    text = (MAC / "outputs" / "iogpu-wired-limit-m1max.txt").read_text().splitlines()[1]
    raw = {"python": json.dumps({"system": "Darwin", "machine": "arm64", "libc": ["", ""]}), "sysctl": text}
    assert parse_facts(raw).wired_limit_mb == 26000


def test_leaking_environment_variables(tmp_path: Path) -> None:
    leaks = {"CONDA_DEFAULT_ENV": "base", "CONDA_PREFIX": "/opt/conda", "PYTHONPATH": "/x"}
    python = {"system": "Linux", "machine": "x86_64", "libc": ["glibc", "2.36"]}
    raw = {"python": json.dumps(python), "environment": json.dumps(leaks)}
    topics = {f.topic for f in diagnose(parse_facts(raw), {})}
    assert {"conda-base", "pythonpath"} <= topics


def test_deepseek_r1_needs_the_wired_limit_raised_to_about_448_gb() -> None:
    fit = inference_fit(MODELS["deepseek-r1"], 4, 16 * 1024, 512 * GIB, None)
    assert fit.verdict == "fits with a raised wired limit"
    assert fit.suggested_limit_mb is not None
    assert 440 * GB <= fit.suggested_limit_mb * 2**20 <= 456 * GB  # the reference: raised to ~448 GB
    text = "\n".join(fit.lines)
    assert f"sudo sysctl iogpu.wired_limit_mb={fit.suggested_limit_mb}" in text and "resets at reboot" in text


def test_fit_uses_a_raised_limit_read_on_the_host() -> None:
    fit = inference_fit(MODELS["deepseek-r1"], 4, 4096, 512 * GIB, 458752)
    assert fit.verdict == "fits"


def test_plainly_impossible_case_is_refused_with_the_reason(run_cli) -> None:
    result = run_cli("fit", "--params", "671B", "--bits", "16", "--chip", "Apple M2 Max", "--memory", "64GB")
    assert result.code == 3
    assert "does not fit: needs 1415.1 GB" in result.out and "no wired limit can go above" in result.out


def test_small_model_fits_on_a_16_gb_mac(run_cli) -> None:
    result = run_cli(
        "fit", "--model", "llama-3.1-8b", "--bits", "4", "--chip", "Apple M4", "--memory", "16GB", "--json"
    )
    assert result.code == 0
    assert json.loads(result.out)["verdict"] == "fits"


def test_estimated_architecture_is_close_to_llama_70b() -> None:
    estimate = estimated_architecture(70.6e9)
    real = MODELS["llama-3.1-70b"]
    assert estimate.kv_bytes_per_token_fp16 == pytest.approx(real.kv_bytes_per_token_fp16, rel=0.1)


def test_training_70b_on_2t_tokens() -> None:
    plain = training_fit(MODELS["llama-3.1-70b"], 2e12, "mixed", False, 4096, 1, 512 * GIB, 26.0, "test")
    remat = training_fit(MODELS["llama-3.1-70b"], 2e12, "mixed", True, 4096, 1, 512 * GIB, 26.0, "test")
    assert plain.memory_bytes_needed > remat.memory_bytes_needed > 70.6e9 * 16
    text = "\n".join(plain.lines)
    assert "8.47e+23 FLOPs" in text and "years" in text and not plain.fits


def test_doctor_reports_an_invalid_profile_as_a_problem_and_keeps_checking_the_others(
    project: Path, run_cli, tmp_path: Path
) -> None:
    (project / "profiles" / "bad.yaml").write_text("name: bad\nplatforms: [linux-64\n")
    folder = mac_facts_dir(tmp_path, "m1-bigsur.txt", "arm64", "\nkern.osproductversion: 11.2\n")
    result = run_cli("--root", str(project), "doctor", "--facts", str(folder))
    assert result.code == 1
    assert "ERROR    profile: profiles/bad.yaml:3:1" in result.out
    assert "torch-mps: macOS 11.2 is older than the 14.0 this profile needs" in result.out, "the valid ones still count"


def test_memory_units_are_one_rule() -> None:
    from provision.errors import ProvisionError
    from provision.machine.fit import parse_memory, parse_quantity

    assert parse_memory("64GB") == parse_memory("64GiB") == 64 * 2**30  # as Macs are sold
    assert parse_memory("0.5TB") == 2**39
    assert parse_quantity("512GB", "--x") == 512e9  # model sizes and counts stay decimal
    with pytest.raises(ProvisionError):
        parse_memory("64")  # a memory size always says its unit


MORE = Path(__file__).resolve().parent / "data" / "fixtures" / "mac-more"


@pytest.mark.parametrize(
    ("file", "chip", "memory_gib", "cores", "performance", "efficiency", "macos"),
    [
        ("sphardware-m3-macbookpro-24gb-text.txt", "Apple M3", 24, 8, 4, 4, None),
        ("sphardware-m1-max-macbookpro18-4-32gb-text.txt", "Apple M1 Max", 32, 10, 8, 2, None),
        ("sphardware-spsoftware-m2-max-mac14-6-96gb-text.txt", "Apple M2 Max", 96, 12, 8, 4, "15.7.4"),
        ("spsoftware-sphardware-storage-memory-m1-pro-16gb-text.txt", "Apple M1 Pro", 16, 8, 6, 2, "13.1"),
    ],
)
def test_text_system_profiler_is_read(file: str, chip: str, memory_gib: int, cores: int, performance: int,
                                      efficiency: int, macos: str | None) -> None:  # fmt: skip
    from provision.machine.facts import parse_profiler

    facts = parse_profiler((MORE / file).read_text())
    assert (facts.chip, facts.memory_bytes, facts.cpu_cores) == (chip, memory_gib * 2**30, cores)
    assert (facts.performance_cores, facts.efficiency_cores, facts.macos) == (performance, efficiency, macos)


def test_gpu_cores_from_displays_and_cores_from_older_sysctl() -> None:
    from provision.machine.facts import parse_facts, parse_profiler

    assert parse_profiler("", (MORE / "spdisplays-m2-max-38core-mac14-6-text.txt").read_text()).gpu_cores == 38
    old = parse_facts({"sysctl": (MORE / "sysctl-machdep-cpu-intel-i5-4440-osx-10.9.txt").read_text()}, "f/")
    assert (old.system, old.machine, old.cpu_cores) == ("Darwin", "x86_64", 4)


def test_a_facts_folder_is_read_by_its_documented_layout(tmp_path: Path, run_cli) -> None:
    """Only sysctl.txt: the system is inferred, an absent fact is unknown (not a missing tool), and a
    requirement that depends on it is unchecked (--strict fails). Unknown files are named; a folder
    with no known file is an error."""
    folder = tmp_path / "facts"
    folder.mkdir()
    (folder / "sysctl.txt").write_text((MAC / "sysctl" / "m2-monterey.txt").read_text().replace(
        "kern.osproductversion", "kern.other"))  # fmt: skip
    (folder / "nvidia_smi.txt").write_text("a typo of nvidia-smi.txt\n")
    result = run_cli("--root", str(REPO), "doctor", "--facts", str(folder))
    assert result.code == 0, result.out + result.err
    assert f"note: {folder}: not read (not a fact provision knows): nvidia_smi.txt" in result.err
    assert "xcode: unchecked: xcode-select.txt is not in the facts" in result.out
    assert "macos: torch-mps: unchecked: the facts hold no macOS version; this profile needs 14.0" in result.out
    assert "missing" not in result.out
    assert run_cli("--root", str(REPO), "doctor", "--facts", str(folder), "--strict").code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("nothing\n")
    refused = run_cli("--root", str(REPO), "doctor", "--facts", str(empty))
    assert refused.code == 1 and "no facts file here" in refused.err
