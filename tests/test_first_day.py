"""A teammate's first day, from a plain clone with nothing beside it and only uv installed:
the README's "New Mac" command (`uv run provision ...`) works the same on Linux, with no hand-made
virtual environment, no folder of the build machine beside it, no mirror and no GPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO
from .test_doctor_fit import mac_facts_dir

UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def plain_clone(target: Path) -> Path:
    """The files `git clone` would give (the tracked files, as they are in this working tree)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("first-day")
    return plain_clone(root / "provision")  # nothing beside it


def uv_run(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert UV is not None, "uv is installed with provision's dev dependencies"
    # Only uv and the system's basic tools on PATH: no activated venv, no provision.
    path = os.pathsep.join([str(Path(UV).parent), "/usr/bin", "/bin"])
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PROVISION_", "CONDA_"))}
    home = clone.parent / "home"
    full = {**base, "PATH": path, "PROVISION_HOME": str(home), "XDG_CACHE_HOME": str(clone.parent / "cache"),
            "XDG_CONFIG_HOME": str(clone.parent / "config"), **(env or {})}  # fmt: skip
    return subprocess.run(
        [UV, "run", "--quiet", "--project", str(clone), "provision", *args], cwd=clone, env=full,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.network
@pytest.mark.slow
def test_a_plain_clone_checks_itself_and_plans_for_a_mac_and_a_gpu_node(clone: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in clone.parent.iterdir()) == ["provision"], "the clone stands alone"
    checked = uv_run(clone, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    facts = mac_facts_dir(tmp_path, "m2-monterey.txt", "arm64", "\nkern.osproductversion: 14.5\n")
    planned = uv_run(clone, "plan", "torch-mps", "--facts", str(facts), "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["preflight_problems"] == []

    # A login node without the GPU prepares the CUDA environment: no driver, no mirror folder.
    gpu = uv_run(clone, "apply", "torch-linux", "--dry-run", env={"CONDA_OVERRIDE_CUDA": "12.4"})
    assert gpu.returncode == 0, gpu.stderr
    assert "CONDA_OVERRIDE_CUDA=12.4 in effect" in gpu.stderr
    assert "deferred to the target machine" in gpu.stdout
    assert "variant cuda: the NVIDIA driver supports CUDA 12.4" in gpu.stderr
    without = uv_run(clone, "plan", "torch-linux", "--variant", "cuda")
    assert "no NVIDIA driver found" in without.stdout


@pytest.mark.network
@pytest.mark.slow
def test_the_first_command_applies_linux_cpu_from_the_plain_clone(clone: Path) -> None:
    done = uv_run(clone, "apply", "linux-cpu", "--yes", "--no-verify")
    assert done.returncode == 0, done.stderr
    prefix = clone.parent / "home" / "envs" / "linux-cpu"
    imported = subprocess.run([str(prefix / "bin" / "python"), "-c", "import jax, numpy; print(jax.__version__)"],
                              capture_output=True, text=True)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    again = uv_run(clone, "apply", "linux-cpu", "--yes")
    assert again.returncode == 0 and "up to date" in again.stdout


# The build machine keeps reference data in a folder beside the checkout; a teammate has none.
BESIDE = "sha" + "red"  # spelt in two parts so that this guard does not match itself


def test_no_file_of_the_repository_refers_to_the_build_machines_folder() -> None:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    offenders = []
    for name in listed.splitlines():
        if (
            name.split("/")[0] not in ("provision", "profiles", "tests", "benchmarks", ".ci")
            and name != "pyproject.toml"
        ):
            continue
        if not (REPO / name).is_file():
            continue
        text = (REPO / name).read_text(encoding="utf-8", errors="replace")
        if any(pattern in text for pattern in (f"../{BESIDE}", f"{BESIDE}/reference", f"{BESIDE}/fixtures")):
            offenders.append(name)
    assert offenders == []


def test_a_mirror_in_the_project_file_is_refused_with_the_line_that_moves_it(tmp_path: Path, run_cli) -> None:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "profiles", root / "profiles")
    (root / "provision.yaml").write_text("mirrors:\n  conda-forge: /srv/mirror/conda-forge\n")
    done = run_cli("--root", str(root), "lock", "linux-cpu", "--platform", "linux-64")
    assert done.code == 1
    assert "mirrors are a machine's setting" in done.err and "PROVISION_MIRRORS" in done.err


def test_config_shows_each_setting_and_where_it_came_from(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("mirrors:\n  conda-forge: mirror/conda-forge\n  pytorch: https://mirror.example/pytorch\n")
    monkeypatch.setenv("PROVISION_CONFIG", str(config))
    monkeypatch.setenv("PROVISION_MIRRORS", "pytorch=https://other.example/pytorch")
    done = run_cli("config", "--mirror", "nvidia=https://cli.example/nvidia", "--json")
    assert done.code == 0, done.err
    found = {s["name"]: (s["value"], s["origin"]) for s in json.loads(done.out)}
    assert found["mirror conda-forge"] == ((tmp_path / "mirror/conda-forge").as_uri(), str(config))
    assert found["mirror pytorch"] == ("https://other.example/pytorch", "PROVISION_MIRRORS")
    assert found["mirror nvidia"] == ("https://cli.example/nvidia", "--mirror")
    assert found["config file"] == (str(config), "exists")


def test_an_interpreter_older_than_3_10_gets_one_line_saying_how_to_get_a_newer_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from provision import quick

    monkeypatch.setattr(sys, "version_info", (3, 9, 6, "final", 0))
    with pytest.raises(SystemExit) as exited:
        quick.main()
    message = str(exited.value.code)
    assert "\n" not in message and "3.9.6" in message and "brew install python@3.11" in message


def readme_commands() -> list[str]:
    """The README's two commands, as a newcomer copies them: the first two code blocks under "Two commands"."""
    section = (REPO / "README.md").read_text().split("## Two commands", 1)[1]
    return [block.strip() for block in section.split("```\n")[1:4:2]]


def readme_first_command() -> str:
    return readme_commands()[0]


def test_ci_runs_exactly_the_readmes_second_command() -> None:
    """CI and a developer run the same thing: .ci/run's one command is the README's second, word for word."""
    lines = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == readme_commands()[1] == "bash tests/run-all"
    assert [line for line in lines[:-1] if not line.startswith(("set ", "cd "))] == []  # nothing else runs


@pytest.mark.network
@pytest.mark.slow
def test_the_readmes_first_command_in_a_plain_clone_with_an_empty_home(clone: Path) -> None:
    """Quiet install, provision's own lines first, the acceptance run, then a "next" block whose every line
    works pasted. Only the download caches are the machine's (they are caches, not the user's state)."""
    command = readme_first_command()
    assert command.startswith("python3 -m venv .venv && ") and " -q " in command
    home = clone.parent / "readme-home"
    home.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PROVISION_", "CONDA_", "XDG_"))}
    env = {**base, "HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin",
           "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"), "UV_CACHE_DIR": str(Path.home() / ".cache" / "uv")}
    done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    said = (done.stderr + done.stdout).splitlines()
    assert said[0].startswith("==> "), said[:5]  # pip said nothing: provision's own line comes first
    assert any("acceptance: jax on cpu" in line for line in said)
    lines = done.stdout.splitlines()
    block = [line.split("  # ")[0].strip() for line in lines[lines.index("next:") + 1 :]]
    assert block[0] == ".venv/bin/provision run linux-cpu -- python -c 'import jax'"
    for line in block:
        line += ' && python -c "import jax"' if line.startswith("eval") else ""
        ran = subprocess.run(["bash", "-c", line], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, (line, ran.stderr)
