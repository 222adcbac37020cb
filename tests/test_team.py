"""Team features: check for CI, lock diffs, exports read back by real consumers, the team report,
and Jupyter kernel registration."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provision.bench import report as verify_report
from provision.bench.peaks import cpu_peak
from provision.bench.verdict import judge
from provision.profile.model import Thresholds

from .conftest import REPO
from .test_apply import E2E

UV = str(Path(sys.executable).parent / "uv")


def test_check_passes_on_this_repository(run_cli) -> None:
    result = run_cli("--root", str(REPO), "check")
    assert result.code == 0, result.out
    assert "all fresh" in result.out


def test_check_lists_every_problem(project: Path, run_cli) -> None:
    for lock in REPO.glob("envs/*/conda-lock.yml"):
        shutil.copy(lock, project / "envs" / lock.parent.name / lock.name)
    shutil.copy(REPO / "conda-lock.yml", project / "conda-lock.yml")
    profile = project / "profiles" / "tf-metal.yaml"
    profile.write_text(profile.read_text().replace("tensorflow-metal==1.2.0", "tensorflow-metal==1.1.0"))
    (project / "Brewfile").write_text("# edited by hand\n")
    result = run_cli("--root", str(project), "check", "--json")
    assert result.code == 1
    problems = json.loads(result.out)["problems"]
    where = {(p["kind"], p["where"]) for p in problems}
    assert ("render", "envs/tf-metal/environment.yml") in where
    assert ("render", "Brewfile") in where
    assert ("lock", "envs/tf-metal/conda-lock.yml [osx-arm64]") in where
    (project / "profiles" / "broken.yaml").write_text("name: broken\nkind: docker\n")
    result = run_cli("--root", str(project), "check")
    assert result.code == 1 and "profiles/broken.yaml" in result.out


@pytest.fixture
def e2e(tmp_path: Path) -> E2E:
    world = E2E(tmp_path)
    assert world.run("lock", "e2e").returncode == 0
    return world


def test_diff_shows_an_upgraded_pin(e2e: E2E) -> None:
    old = e2e.tmp / "old-conda-lock.yml"
    shutil.copy(e2e.root / "envs/e2e/conda-lock.yml", old)
    e2e.write_profile("provtest-tool 2.*", ["provtest-hello==2.0"], "yes")
    assert e2e.run("lock", "e2e").returncode == 0
    markdown = e2e.run("diff", "e2e", "--against", str(old)).stdout
    assert "| upgraded | conda | provtest-tool | 1.0 | 2.0 |" in markdown
    assert "| upgraded | pip | provtest-hello | 1.0 | 2.0 |" in markdown
    assert "| removed | pip | provtest-extra | 1.0 | |" in markdown
    data = json.loads(e2e.run("diff", "e2e", "--against", str(old), "--json").stdout)
    linux = data["platforms"][0]
    assert linux["platform"] == "linux-64" and len(linux["upgraded"]) == 2 and not linux["downgraded"]


def test_diff_against_a_git_revision(e2e: E2E) -> None:
    git = ["git", "-C", str(e2e.root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "lock"], check=True)
    e2e.write_profile("provtest-tool 1.*", ["provtest-hello==1.0"], "yes")  # extra wheel dropped
    assert e2e.run("lock", "e2e").returncode == 0
    markdown = e2e.run("diff", "e2e", "--against", "HEAD").stdout
    assert "| removed | pip | provtest-extra | 1.0 | |" in markdown and "upgraded" not in markdown.split("|---|")[-1]
    bad = e2e.run("diff", "e2e", "--against", "no-such-rev")
    assert bad.returncode == 1 and "not a file and not a git revision" in bad.stderr


def test_export_explicit_matches_conda_lock_render(tmp_path: Path, run_cli) -> None:
    result = run_cli("--root", str(REPO), "export", "torch-linux", "--format", "explicit")
    assert "note: torch-linux: variant cuda (cpu: --variant NAME)" in result.err
    ours = {line for line in result.out.splitlines() if line.startswith("https://")}
    conda_lock = Path(sys.executable).parent / "conda-lock"
    lock = str(REPO / "envs/torch-linux/cuda/conda-lock.yml")
    render = [str(conda_lock), "render", "-k", "explicit", "-p", "linux-64", lock]
    subprocess.run(render, cwd=tmp_path, check=True, capture_output=True)
    theirs = {
        line for line in (tmp_path / "conda-linux-64.lock").read_text().splitlines() if line.startswith("https://")
    }
    assert ours == theirs and len(ours) > 50
    assert "@EXPLICIT" in result.out


def _uv_dry_run(tmp_path: Path, requirement_file: Path, *extra: str) -> str:
    done = subprocess.run(
        [UV, "pip", "install", "--dry-run", "--no-config", "--target", str(tmp_path / "target"),
         "--python-platform", "x86_64-manylinux_2_28", "--python-version", "3.11", *extra, "-r", str(requirement_file)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr + done.stdout


def test_export_requirements_and_pylock_are_read_by_uv(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "out"
    assert (
        run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "requirements", "--output", str(out)).code == 0
    )
    assert run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "pylock", "--output", str(out)).code == 0
    requirements = _uv_dry_run(tmp_path, out / "requirements-linux-64.txt", "--no-deps", "--require-hashes")
    pylock = _uv_dry_run(tmp_path, out / "pylock.toml")
    for text in (requirements, pylock):
        assert "Would install 6 packages" in text and "jax" in text


def test_export_dockerfile_parses_and_builds_from_its_pack(tmp_path: Path, run_cli) -> None:
    import dockerfile

    from provision.consumers import export
    from provision.profile.load import load_profile, with_variant
    from provision.project import Project

    out = tmp_path / "linux-cpu"
    assert run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "dockerfile", "--output", str(out)).code == 0
    commands = dockerfile.parse_file(str(out / "Dockerfile"))
    names = [c.cmd for c in commands]
    assert names[:2] == ["ARG", "FROM"] and "@sha256:REPLACE" in commands[0].value[0]  # no unpinned default base
    assert commands[1].value[-1] == "${BASE}"
    copied = next(c for c in commands if c.cmd == "COPY").value
    assert copied[0] == "linux-cpu-linux-64.pack" and (out / copied[0]).is_file()
    run = next(c for c in commands if c.cmd == "RUN").value[0]
    assert run.startswith(f"python3.11 -I {copied[1]} apply --prefix /opt/env") and "CONDA_OVERRIDE" not in run
    env = {c.value[0]: c.value[1] for c in commands if c.cmd == "ENV"}
    assert json.loads(env["JAX_PLATFORMS"]) == "cpu" and json.loads(env["PATH"]) == "/opt/env/bin:$PATH"
    final = commands[-1]
    assert final.cmd == "CMD" and final.json and final.value[2:4] == (copied[1], "verify")
    # A GPU profile is built where there is no GPU: preflight is told the driver the profile requires.
    cuda = with_variant(load_profile(Project(REPO), "torch-linux"), "cuda")
    text = export.dockerfile(cuda, "linux-64", "torch-linux-linux-64.pack", "3.11")
    cuda_run = next(c for c in dockerfile.parse_string(text) if c.cmd == "RUN").value[0]
    assert cuda_run.startswith(f"CONDA_OVERRIDE_CUDA={cuda.requires.cuda_driver} python3.11 -I")
    with pytest.raises(dockerfile.GoParseError):  # the parser does reject what is not a Dockerfile
        dockerfile.parse_string("# only a comment\n")
    refused = run_cli("--root", str(REPO), "export", "torch-mps", "--format", "dockerfile", "--output", str(tmp_path))
    assert refused.code == 1 and "is for Linux platforms" in refused.err


def _saved_report(folder: Path, name: str, doc_file: str, hostname: str, slow: bool) -> None:
    doc = json.loads((Path(__file__).parent / "data" / "bench" / doc_file).read_text())
    if slow:
        doc["checks"].append({"name": "placement", "status": "FAIL", "reason": "fell back to cpu", "values": {}})
    result = judge(doc, Thresholds(), cpu_peak("flags : avx2 fma\ncpu MHz : 2000\n", None, 2))
    verify_report.save([result], folder, name, {"profile": name, "machine": {"hostname": hostname, "chip": "AMD EPYC"}})


def test_team_report_over_several_recorded_reports(tmp_path: Path, run_cli) -> None:
    _saved_report(tmp_path / "alice", "linux-cpu", "jax-cpu.json", "alice-box", slow=False)
    _saved_report(tmp_path / "bob", "linux-cpu", "jax-cpu.json", "bob-box", slow=True)
    _saved_report(tmp_path / "carol", "torch-cpu", "torch-cpu.json", "carol-box", slow=False)
    png = tmp_path / "team.png"
    result = run_cli("report", str(tmp_path), "--png", str(png), "--json")
    assert result.code == 1 and "FAIL on bob-box (jax)" in result.err  # a failed machine fails the report
    table = json.loads(result.out)
    assert {r["machine"] for r in table} == {"alice-box", "bob-box", "carol-box"}
    verdicts = {r["machine"]: r["verdict"] for r in table}
    assert verdicts == {"alice-box": "PASS", "bob-box": "FAIL", "carol-box": "PASS"}
    assert all(r["fp32_tflops"] > 0 and r["fraction_of_peak"] for r in table)
    assert png.stat().st_size > 10_000
    assert run_cli("report", str(tmp_path / "nothing-here")).code == 2  # click: path must exist


def test_jupyter_kernel_is_registered(e2e: E2E, tmp_path: Path) -> None:
    builders_wheel = e2e.tmp / "wheels"
    from . import builders

    builders.wheel(builders_wheel, "ipykernel", "6.0", "ENTRY = True\n")
    e2e.write_profile("provtest-tool 1.*", ["provtest-hello==1.0", "ipykernel==6.0"], "kernel")
    assert e2e.run("lock", "e2e").returncode == 0
    done = e2e.run("apply", "e2e", "--jupyter", extra={"JUPYTER_DATA_DIR": str(tmp_path / "jupyter")})
    assert done.returncode == 0, done.stderr
    spec = json.loads((tmp_path / "jupyter/kernels/provision-e2e/kernel.json").read_text())
    assert spec["argv"][0] == str(e2e.prefix / "bin/python") and spec["argv"][1:3] == ["-m", "ipykernel_launcher"]
    assert spec["env"]["PROVTEST"] == "kernel" and spec["display_name"] == "e2e (provision)"


def test_team_report_marks_machines_whose_environment_differs_from_the_lock(tmp_path: Path, run_cli) -> None:
    def report(folder: str, host: str, lock: str, differences: list[str] | None) -> None:
        environment = None if differences is None else {
            "lock_sha256": lock, "installed_sha256": "x", "matches_lock": not differences, "differences": differences,
        }  # fmt: skip
        doc = json.loads((Path(__file__).parent / "data" / "bench" / "jax-cpu.json").read_text())
        result = judge(doc, Thresholds(), cpu_peak("flags : avx2 fma\ncpu MHz : 2000\n", None, 2))
        meta = {"profile": "linux-cpu", "machine": {"hostname": host, "chip": "AMD EPYC"}}
        verify_report.save([result], tmp_path / folder, "linux-cpu", {**meta, **({"environment": environment}
                           if environment else {})})  # fmt: skip

    report("a", "alice", "L1", [])
    report("b", "bob", "L1", ["numpy 2.4.6 missing (pypi)"])
    report("c", "carol", "L1", [])
    report("d", "dave", "L2", [])
    report("e", "erin", "L1", None)  # written before reports recorded the environment
    table = json.loads(run_cli("report", str(tmp_path), "--json").out)
    states = {r["machine"]: r["environment"] for r in table}
    assert states == {"alice": "exact", "bob": "differs (1)", "carol": "exact", "dave": "other lock", "erin": "?"}


def test_schema_1_reports_are_still_read(tmp_path: Path, run_cli) -> None:
    # The layout provision wrote before typed verdicts: "dtype@n" fraction keys, schema 1.
    doc = json.loads((Path(__file__).parent / "data" / "bench" / "jax-cpu.json").read_text())
    largest = max(r["n"] for r in doc["throughput"] if r["dtype"] == "float32")
    old = {"verdict": "PASS", "framework": "jax", "device": "cpu", "device_kind": "cpu", "device_name": "cpu",
           "peak": {"tflops": {"float32": 0.128}, "source": "estimate: old", "estimate": True},
           "fraction_of_peak": {f"float32@{largest}": 0.42}, "versus_cpu": None,
           "gates": [{"name": "checks", "status": "PASS", "reason": "no check failed"}], "document": doc}  # fmt: skip
    (tmp_path / "verify-linux-cpu.json").write_text(json.dumps(
        {"schema": 1, "name": "linux-cpu", "verdict": "PASS", "machine": {"hostname": "old-box"}, "results": [old]}
    ))  # fmt: skip
    table = json.loads(run_cli("report", str(tmp_path), "--json").out)
    assert [(r["machine"], r["verdict"], r["fraction_of_peak"]) for r in table] == [("old-box", "PASS", 0.42)]


@pytest.mark.parametrize(("content", "said"), [("node1\n$(reboot)\n", ":2:1: '$(reboot)' is not a host name"),
                                              ("FIFO", ": not a regular file")])  # fmt: skip
def test_a_hostile_node_list_is_one_line(tmp_path: Path, run_cli, content: str, said: str) -> None:
    import os

    _saved_report(tmp_path / "node1", "linux-cpu", "jax-cpu.json", "node1", slow=False)
    listing = tmp_path / "expected-nodes.txt"
    if content == "FIFO":
        os.mkfifo(listing)  # reading it would block forever
    else:
        listing.write_text(content)
    result = run_cli("report", str(tmp_path))
    assert result.code == 1 and result.err.count("\n") == 1, result.err
    assert f"{listing}{said}" in result.err


def test_the_slurm_script_never_runs_a_folder_name_as_shell_code(tmp_path: Path, run_cli) -> None:
    job = tmp_path / "job $(touch pwned) 'x'"
    assert run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "slurm", "--output", str(job)).code == 0
    script = (job / "provision.sbatch").read_text()
    defaults = "\n".join(line for line in script.splitlines() if line.startswith(("default_", "export PROVISION_")))
    shown = subprocess.run(["bash", "-c", defaults + '\nprintf %s "$PROVISION_REPORTS"'], cwd=tmp_path,
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert shown.stdout == str(job / "reports") and not (tmp_path / "pwned").exists()


def test_a_nodes_report_is_shown_as_text_never_as_markup_or_terminal_codes(tmp_path: Path, run_cli) -> None:
    hostile = "[link=http://evil.example]box[/link]\x1b[2J"
    _saved_report(tmp_path / "n1", "linux-cpu", "jax-cpu.json", hostile, slow=True)
    shown = run_cli("report", str(tmp_path))
    assert shown.code == 1 and "\x1b" not in shown.out + shown.err
    assert "[link=http://evil.example]box[/link]\\x1b[2J" in shown.out  # the text itself, escaped
    assert "FAIL on [link=http://evil.example]box[/link]\\x1b[2J (jax)" in shown.err


def test_generated_scripts_take_every_value_as_data(tmp_path: Path, run_cli) -> None:
    """A newline in the reports folder once ended the sbatch header comment and ran `touch PWNED` on
    every node; ENV values were expanded by the builder ($HOME) and non-ASCII written as \\u escapes."""
    from provision.consumers import export
    from provision.profile.load import load_profile
    from provision.profile.model import Profile
    from provision.project import Project

    refused = run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "slurm", "--output",
                      str(tmp_path / "job\ntouch PWNED #"))  # fmt: skip
    assert refused.code == 2 and "control character" in refused.err and not list(tmp_path.iterdir())
    profile = load_profile(Project(REPO), "linux-cpu")
    script = export.slurm(profile, "linux-64", "3.11", str(REPO), "reports\ntouch PWNED #")
    assert "(default: reports\\x0atouch PWNED #)" in script  # the comment stays one line
    stubs = tmp_path / "stubs"  # the job run for real, with Slurm's commands stubbed
    stubs.mkdir()
    for tool in ("scontrol", "srun"):
        (stubs / tool).write_text("#!/bin/sh\nexit 0\n")
        (stubs / tool).chmod(0o755)
    ran = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": f"{stubs}:/usr/bin:/bin", "SLURM_JOB_NODELIST": "n1"})  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert not (tmp_path / "PWNED").exists()
    hostile = Profile.model_validate({**profile.model_dump(), "env": {"GREETING": "$HOME says \"héllo\" \\ ok"}})
    text = export.dockerfile(hostile, "linux-64", "x.pack", "3.11")
    line = next(line for line in text.splitlines() if line.startswith("ENV GREETING="))
    assert line == 'ENV GREETING="\\$HOME says \\"héllo\\" \\\\ ok"'


def test_an_explicit_export_of_a_pypi_only_profile_is_refused_with_the_format_that_fits(run_cli) -> None:
    result = run_cli("--root", str(REPO), "export", "linux-cpu", "--format", "explicit")
    assert result.code == 1 and result.out == ""
    assert "no conda layer to list in an @EXPLICIT file" in result.err and "--format requirements" in result.err
