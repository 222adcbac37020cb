"""A newcomer's first hour: what apply says to do next works when pasted, settings say how to set what is
unset, a command outside a project says how to point at one, and `python -m provision` is the same tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .world import E2E


def test_the_next_block_after_apply_works_pasted(tmp_path: Path) -> None:
    world = E2E(tmp_path)
    assert world.run("lock", "e2e").returncode == 0
    done = world.run("apply", "e2e", "--no-verify", process=True)  # the next block names the program as invoked
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    block = lines[lines.index("next:") + 1 :]
    assert len(block) == 3, done.stdout
    commands = [line.strip().split("  # ")[0].strip() for line in block]
    assert f"--root {world.root}" in commands[0]  # this test's folder is not the project: --root is needed
    for command in commands:
        if command.startswith("eval"):
            command += ' && python -c "import os; print(os.environ[\'PROVTEST\'])"'
        ran = subprocess.run(["bash", "-c", command], env=world.env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, (command, ran.stderr)
        if command.startswith("eval"):
            assert ran.stdout.strip() == "yes"
    quiet = world.run("-q", "apply", "e2e", "--no-verify", "--repair-files")
    assert quiet.returncode == 0 and "next:" not in quiet.stdout


def test_settings_and_projects_say_how_to_set_them(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("PROVISION_MIRRORS", None)
    env.pop("PROVISION_ROOT", None)
    provision = str(Path(sys.executable).parent / "provision")
    config = subprocess.run([provision, "config"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert config.returncode == 0
    assert "set one with `mirrors: {conda-forge: URL or FOLDER}` in " in config.stdout
    assert "PROVISION_MIRRORS=conda-forge=URL, or --mirror conda-forge=URL" in config.stdout
    outside = subprocess.run([provision, "list"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert outside.returncode == 1
    assert outside.stderr.strip().endswith("pass --root DIR, or set PROVISION_ROOT=DIR.")
    repo = Path(__file__).resolve().parent.parent
    pointed = subprocess.run([provision, "list"], env={**env, "PROVISION_ROOT": str(repo)}, cwd=tmp_path,
                             capture_output=True, text=True)  # fmt: skip
    assert pointed.returncode == 0 and "linux-cpu" in pointed.stdout
    module = subprocess.run([sys.executable, "-m", "provision", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.startswith("provision, version ")


@pytest.mark.parametrize(("kind", "said"), [("file", "names a file, not a folder"),
                                            ("missing", "names a folder that does not exist"),
                                            ("empty", "names a folder with no profiles/")])  # fmt: skip
def test_a_root_that_is_no_project_is_named_as_the_user_set_it(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch,
                                                               kind: str, said: str) -> None:  # fmt: skip
    root = tmp_path / kind
    if kind == "file":
        root.write_text("")
    elif kind == "empty":
        root.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROVISION_ROOT", str(root))
    from_env = run_cli("list")
    fix = "set PROVISION_ROOT to a project folder (one with profiles/), or unset it."
    assert (from_env.code, from_env.err) == (1, f"error: {root}: PROVISION_ROOT {said}; {fix}\n")
    monkeypatch.delenv("PROVISION_ROOT")
    given = run_cli("--root", str(root), "list")
    fix = "pass --root with a project folder (one with profiles/)."
    assert (given.code, given.err) == (1, f"error: {root}: --root {said}; {fix}\n")


def test_init_makes_the_folder_of_root_but_never_of_a_stale_provision_root(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROVISION_ROOT", str(tmp_path / "stale"))
    refused = run_cli("init", "demo", "--from", "requirements.txt")
    assert refused.code == 1 and refused.err.splitlines()[-1] == (
        f"error: {tmp_path / 'stale'}: PROVISION_ROOT names a folder that does not exist; set PROVISION_ROOT to a "
        "project folder (one with profiles/), or unset it.")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]  # nothing made, here or there
    monkeypatch.delenv("PROVISION_ROOT")
    made = run_cli("--root", str(tmp_path / "new"), "init", "demo", "--from", "requirements.txt")
    assert made.code == 0 and (tmp_path / "new" / "profiles" / "demo.yaml").is_file()  # as `pixi init PATH`
    (tmp_path / "afile").write_text("")
    under = tmp_path / "afile" / "sub"
    made_under = run_cli("--root", str(under), "init", "demo", "--from", "requirements.txt")  # one line, no traceback
    assert made_under.code == 1 and made_under.err.splitlines()[-1].startswith(f"error: {under / 'profiles'}: cannot")


LMOD = Path("/usr/share/lmod/lmod/init/bash")  # Debian's lmod (tests/run-all installs it)


def test_an_exported_modulefile_loads_with_lmod(tmp_path: Path) -> None:
    """`export --format lmod`: Lmod itself loads it (`module use; module load`), and the environment's Python
    runs with the profile's variables, a hostile-looking value arriving as exactly that text."""
    assert LMOD.is_file(), "lmod is missing: tests/run-all installs it"
    world = E2E(tmp_path)
    value = "it's $(touch PWNED) ]] é"
    world.write_profile("provtest-tool 1.*", ["provtest-hello==1.0"], value)
    assert world.run("lock", "e2e").returncode == 0
    assert world.run("apply", "e2e", "--no-verify").returncode == 0
    modules = tmp_path / "modules"
    made = world.run("export", "e2e", "--format", "lmod", "--output", str(modules), "--prefix", str(world.prefix))
    assert made.returncode == 0, made.stderr
    assert (modules / "e2e.lua").is_file()
    shown = "import os, provtest_hello; print(os.environ['PROVTEST']); print(os.environ['CONDA_PREFIX'])"
    script = f'source {LMOD} && module use {modules} && module load e2e && python -c "{shown}" && module whatis e2e'
    loaded = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=world.env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[:2] == [value, str(world.prefix)]
    assert "Lock: conda-lock.yml sha256 " in loaded.stderr + loaded.stdout  # whatis names the lock it came from
    assert not (tmp_path / "PWNED").exists()
    relative = world.run("export", "e2e", "--format", "lmod", "--output", str(modules), "--prefix", "env")
    assert relative.returncode == 2 and "give an absolute folder" in relative.stderr
