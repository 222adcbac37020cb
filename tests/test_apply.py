"""End to end: lock and apply a profile whose conda layer is a file:// channel of tiny real conda
packages and whose PyPI layer is wheels built here; re-apply, change, tamper, kill, race, remove."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from provision.apply.prefix_lock import prefix_lock
from provision.apply.stamp import read_stamp

from .world import E2E, PROVISION


@pytest.fixture
def e2e(tmp_path: Path) -> E2E:
    world = E2E(tmp_path)
    locked = world.run("lock", "e2e")
    assert locked.returncode == 0, locked.stderr
    return world


def test_apply_reapply_change_and_remove(e2e: E2E) -> None:
    plan = json.loads(e2e.run("plan", "e2e", "--json").stdout)
    assert [s["action"] for s in plan["steps"]][:5] == ["run", "skip", "run", "run", "run"]
    first = e2e.run("apply", "e2e")
    assert first.returncode == 0, first.stderr
    assert e2e.tool() == "tool 1\n"
    assert (
        e2e.in_env("import provtest_hello, provtest_extra, os; print(provtest_hello.VERSION, os.environ['PROVTEST'])")
        == "1.0 yes"
    )
    activate = (e2e.prefix / "etc/conda/activate.d/provision-env.sh").read_text()
    assert "export PROVTEST=yes" in activate
    stamp = read_stamp(e2e.prefix)
    assert stamp is not None and stamp.profile == "e2e"

    again = e2e.run("apply", "e2e")
    assert again.returncode == 0 and "up to date" in again.stdout
    assert "download" not in again.stderr

    e2e.write_profile("provtest-tool 2.*", ["provtest-hello==2.0"], "changed")
    assert e2e.run("lock", "e2e").returncode == 0
    plan = json.loads(e2e.run("plan", "e2e", "--json").stdout)
    assert {s["name"]: s["action"] for s in plan["steps"]}["environment"] == "run"
    changed = e2e.run("apply", "e2e")
    assert changed.returncode == 0, changed.stderr
    assert "repair by transaction: provtest-tool 1.0-0 installed, the lock has 2.0-0 (conda)" in json.dumps(plan)
    assert e2e.tool() == "tool 2\n"
    assert (e2e.prefix / "share/provtest/base.txt").read_text() == "base 1\n"
    assert (
        e2e.in_env("import provtest_hello, os; print(provtest_hello.VERSION, os.environ['PROVTEST'])") == "2.0 changed"
    )
    assert e2e.in_env("import importlib.util; print(importlib.util.find_spec('provtest_extra'))") == "None"

    # conda's list of environments, read as `conda env list` reads it: one prefix per line.
    registry = Path(e2e.env["HOME"]) / ".conda" / "environments.txt"
    assert registry.read_text().splitlines() == [str(e2e.prefix)]
    shell = e2e.run("shell", "e2e").stdout
    assert f"export CONDA_PREFIX={e2e.prefix}" in shell and "export PROVTEST=changed" in shell
    removed = e2e.run("remove", "e2e")
    assert removed.returncode == 0 and not e2e.prefix.exists()
    assert registry.read_text() == ""


def test_remove_refuses_a_folder_provision_did_not_create(e2e: E2E, tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    (foreign / "data").mkdir(parents=True)
    done = e2e.run("remove", "e2e", "--prefix", str(foreign))
    assert done.returncode == 1 and "not created by provision" in done.stderr
    assert (foreign / "data").is_dir()


def test_tampered_package_is_refused_before_the_prefix_changes(e2e: E2E) -> None:
    assert e2e.run("apply", "e2e").returncode == 0
    before = sorted(p.relative_to(e2e.prefix) for p in e2e.prefix.rglob("*"))
    stamp = (e2e.prefix / ".provision/stamp.json").read_text()
    e2e.write_profile("provtest-tool 2.*", ["provtest-hello==1.0"], "yes")
    assert e2e.run("lock", "e2e").returncode == 0
    archive = e2e.channel / "linux-64" / "provtest-tool-2.0-0.tar.bz2"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    done = e2e.run("apply", "e2e")
    assert done.returncode == 5
    assert "hash mismatch" in done.stderr and "nothing was installed" in done.stderr
    assert sorted(p.relative_to(e2e.prefix) for p in e2e.prefix.rglob("*")) == before
    assert (e2e.prefix / ".provision/stamp.json").read_text() == stamp
    assert e2e.tool() == "tool 1\n"


def test_an_apply_that_fetches_nothing_says_nothing_of_fetching(e2e: E2E) -> None:
    """An apply whose stamp is gone (every package still in place) rewrites its own files: no download line for
    nothing ("download: 0 packages, each checked ..." read as if something were checked)."""
    assert e2e.run("apply", "e2e").returncode == 0
    (e2e.prefix / ".provision" / "stamp.json").unlink()
    again = e2e.run("apply", "e2e")
    assert again.returncode == 0, again.stderr
    assert "download:" not in again.stderr and "0 packages" not in again.stderr
    assert e2e.run("status", "e2e").returncode == 0


@pytest.mark.parametrize("point", ["fetched", "environment", "pypi"])
def test_killed_apply_never_claims_success_and_the_next_one_repairs(e2e: E2E, point: str) -> None:
    assert e2e.run("apply", "e2e").returncode == 0
    e2e.write_profile("provtest-tool 2.*", ["provtest-hello==2.0"], "yes")
    assert e2e.run("lock", "e2e").returncode == 0
    killed = e2e.run("apply", "e2e", extra={"PROVISION_TEST_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    stamp = read_stamp(e2e.prefix)
    kept = e2e.prefix.with_name(".e2e.provision-backup")
    if point == "fetched":  # nothing changed yet: the old stamp still tells the truth
        assert stamp is not None and e2e.tool() == "tool 1\n" and not kept.exists()
    else:
        assert stamp is None
        assert (kept / "share/provtest/tool.txt").read_text() == "tool 1\n"  # the environment before, kept aside
    pending = e2e.run("plan", "e2e")
    assert pending.returncode == 0 and "changes pending." in pending.stdout, pending.stderr
    repaired = e2e.run("apply", "e2e")
    assert repaired.returncode == 0, repaired.stderr
    assert ("an earlier apply was interrupted" in repaired.stderr) == (point != "fetched")
    assert not kept.exists()
    assert e2e.tool() == "tool 2\n"
    assert e2e.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "2.0"
    assert "up to date" in e2e.run("apply", "e2e").stdout


def test_concurrent_applies_are_serialised(e2e: E2E, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISION_HOME", e2e.env["PROVISION_HOME"])  # the lock lives under the same home
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with prefix_lock(e2e.prefix, wait=True, notify=print):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        busy = e2e.run("apply", "e2e", "--no-wait")
        assert busy.returncode == 6 and "holds this environment" in busy.stderr
        waiting = subprocess.Popen(
            [PROVISION, "--root", str(e2e.root), "apply", "e2e"], env=e2e.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.5)
        assert waiting.poll() is None, "the second apply must wait for the lock"
    finally:
        release.set()
        thread.join()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting for another provision apply" in err


def test_apply_a_lockfile_without_a_profile(e2e: E2E, tmp_path: Path) -> None:
    target = tmp_path / "from-lock"
    done = e2e.run("apply", "--lockfile", str(e2e.root / "envs/e2e/conda-lock.yml"), "--prefix", str(target))
    assert done.returncode == 0, done.stderr
    assert (target / "share/provtest/tool.txt").read_text() == "tool 1\n"
    assert (target / "conda-meta").is_dir()
    lock = str(e2e.root / "envs/e2e/conda-lock.yml")
    # With no profile, the first word after `--` is the command's own (it was taken as a profile name).
    tool = str(target / "share/provtest/tool.txt")
    ran = e2e.run("run", "--lockfile", lock, "--prefix", str(target), "--", "cat", tool)
    assert ran.returncode == 0 and ran.stdout == "tool 1\n", ran.stderr
    missing = e2e.run("shell", "--lockfile", lock, "--prefix", str(tmp_path / "nothing-here"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert f"run `provision apply --lockfile {lock} --prefix {tmp_path / 'nothing-here'}` first" in missing.stderr


def test_an_explicit_list_we_export_applies_like_its_lock(e2e: E2E, tmp_path: Path) -> None:
    """The @EXPLICIT list `export` writes is a lock of its own: applied, it gives the same environment."""
    out = tmp_path / "explicit"
    assert e2e.run("export", "e2e", "--format", "explicit", "--output", str(out)).returncode == 0
    explicit = next(out.iterdir())
    target = tmp_path / "from-explicit"
    done = e2e.run("apply", "--lockfile", str(explicit), "--prefix", str(target), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert (target / "share/provtest/tool.txt").read_text() == "tool 1\n"
    status = e2e.run("status", "--lockfile", str(explicit), "--prefix", str(target))
    assert status.returncode == 0, status.stdout + status.stderr


def test_preflight_refuses_a_platform_the_lock_lacks_and_touches_nothing(e2e: E2E) -> None:
    profile = e2e.root / "profiles" / "e2e.yaml"
    profile.write_text(profile.read_text().replace("platforms: [linux-64]", "platforms: [osx-arm64]"))
    done = e2e.run("apply", "e2e")
    assert done.returncode == 3
    assert "this machine is linux-64, this environment is for osx-arm64" in done.stderr
    assert not e2e.prefix.exists()


def test_stale_lock_is_refused(e2e: E2E) -> None:
    e2e.write_profile("provtest-tool 2.*", ["provtest-hello==1.0"], "yes")
    done = e2e.run("apply", "e2e")
    assert done.returncode == 1 and "the lock is stale for linux-64" in done.stderr
    assert not e2e.prefix.exists()


def test_dry_run_changes_nothing(e2e: E2E) -> None:
    done = e2e.run("apply", "e2e", "--dry-run")
    assert done.returncode == 0 and "changes pending" in done.stdout
    assert not e2e.prefix.exists()


def test_a_full_disk_keeps_the_previous_environment(tmp_path: Path) -> None:
    """The environments' folder is a 2 MB tmpfs (real ENOSPC, from the kernel): the new version's 6 MB file
    cannot be linked, and the environment before the change is back, usable, with the cause named."""
    from . import builders

    world = E2E(tmp_path)
    world.channel = builders.channel(tmp_path / "big-channel", [
        ("provtest-base", "1.0", {"share/provtest/base.txt": b"base 1\n"}, []),
        ("provtest-tool", "1.0", {"share/provtest/tool.txt": b"tool 1\n"}, ["provtest-base"]),
        ("provtest-tool", "3.0", {"share/provtest/tool.txt": b"tool 3\n", "share/provtest/big.bin": b"\0" * 6_000_000},
         ["provtest-base"]),
    ])  # fmt: skip
    envs = world.prefix.parent
    envs.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(envs)], check=True)
    try:
        world.write_profile("provtest-tool 1.*", ["provtest-hello==1.0"], "yes")
        assert world.run("lock", "e2e").returncode == 0
        assert world.run("apply", "e2e", "--no-verify").returncode == 0
        world.write_profile("provtest-tool 3.*", ["provtest-hello==2.0"], "yes")
        assert world.run("lock", "e2e").returncode == 0
        failed = world.run("apply", "e2e", "--no-verify")
        assert failed.returncode == 5, failed.stdout + failed.stderr  # a tool failed (README: exit codes)
        said = failed.stderr.strip().splitlines()[-1]
        assert said.startswith(f"error: no space left on the device of {world.prefix} (2 MB free; linking the conda "
                               "layer failed: 'failed to link provtest-tool-3.0-0.tar.bz2'); free some space and "
                               "apply again: the previous environment was restored"), said  # fmt: skip
        assert world.tool() == "tool 1\n"
        assert world.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "1.0"
        world.write_profile("provtest-tool 1.*", ["provtest-hello==1.0"], "yes")
        assert world.run("lock", "e2e").returncode == 0
        status = world.run("status", "e2e", "--files")
        assert status.returncode == 0, status.stdout + status.stderr  # the old stamp came back with it
        assert sorted(p.name for p in envs.iterdir()) == ["e2e"]  # nothing kept aside is left behind
    finally:
        subprocess.run(["umount", "-l", str(envs)], check=False)


def test_a_copy_left_after_a_finished_change_is_removed_not_restored(e2e: E2E) -> None:
    """Killed while deleting the copy it kept: the change had finished (the stamp is there), so the next apply
    deletes the copy and keeps the new environment."""
    import shutil

    assert e2e.run("apply", "e2e").returncode == 0
    kept = e2e.prefix.with_name(".e2e.provision-backup")
    shutil.copytree(e2e.prefix, kept, symlinks=True)
    (kept / "share/provtest/tool.txt").write_text("tool 0\n")
    again = e2e.run("apply", "e2e")
    assert again.returncode == 0 and "interrupted" not in again.stderr
    assert not kept.exists() and e2e.tool() == "tool 1\n"
