"""The environment, not the stamp: change an applied environment by hand in every way a user does,
and `status` names each difference, `plan` shows it, `apply` repairs exactly it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provision.lock.pypi_layer import uv_executable

from . import builders
from .world import E2E


@pytest.fixture
def applied(tmp_path: Path) -> E2E:
    world = E2E(tmp_path)
    assert world.run("lock", "e2e").returncode == 0
    done = world.run("apply", "e2e")
    assert done.returncode == 0, done.stderr
    assert world.run("status", "e2e").returncode == 0
    return world


def uv_pip(world: E2E, *args: str) -> None:
    python = str(world.prefix / "bin" / "python")
    subprocess.run([uv_executable(), "pip", *args, "--python", python], check=True, capture_output=True,
                   env=world.env)  # fmt: skip


def site(world: E2E) -> Path:
    return next(world.prefix.glob("lib/python3*/site-packages"))


def test_status_names_each_difference_plan_shows_it_and_apply_repairs_it(applied: E2E) -> None:
    # A conda package deleted by hand (its record and its file), a locked wheel uninstalled, a stray
    # wheel installed: what `uv pip uninstall` / `pip install` inside an environment does.
    (applied.prefix / "conda-meta" / "provtest-tool-1.0-0.json").unlink()
    (applied.prefix / "share" / "provtest" / "tool.txt").unlink()
    uv_pip(applied, "uninstall", "provtest-hello")
    stray = builders.wheel(applied.tmp / "stray", "provtest-stray", "0.1", "STRAY = 1\n")
    uv_pip(applied, "install", str(stray))

    status = applied.run("status", "e2e")
    assert status.returncode == 1
    assert status.stdout.splitlines() == [
        "provtest-tool 1.0 missing (conda)",
        "provtest-hello 1.0 missing (pypi)",
        "provtest-stray 0.1 installed outside the lock (pypi)",
    ]
    assert "3 difference(s) from the lock" in status.stderr
    listed = json.loads(applied.run("status", "e2e", "--json").stdout)
    assert [(d["layer"], d["kind"], d["name"]) for d in listed["drift"]] == [
        ("conda", "missing", "provtest-tool"),
        ("pypi", "missing", "provtest-hello"),
        ("pypi", "extra", "provtest-stray"),
    ]

    plan = applied.run("plan", "e2e")
    assert "up to date" not in plan.stdout
    for line in status.stdout.splitlines():
        assert f"differs: {line}" in plan.stdout
    steps = {s["name"]: s["action"] for s in json.loads(applied.run("plan", "e2e", "--json").stdout)["steps"]}
    assert steps["environment"] == "run" and steps["pypi"] == "run" and steps["activation"] == "ok"

    repaired = applied.run("apply", "e2e")
    assert repaired.returncode == 0, repaired.stderr
    assert "pypi: installing 1 of 2 locked packages (hashes required), removing 1 outside the lock" in repaired.stderr
    assert (applied.prefix / "share" / "provtest" / "tool.txt").read_text() == "tool 1\n"
    assert applied.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "1.0"
    assert not list(site(applied).glob("provtest_stray*"))
    final = applied.run("status", "e2e")
    assert final.returncode == 0, final.stdout
    assert "exactly the lock" in final.stdout
    assert "up to date" in applied.run("apply", "e2e").stdout


def test_only_the_pypi_layer_is_redone_when_only_it_drifted(applied: E2E) -> None:
    uv_pip(applied, "uninstall", "provtest-extra")
    plan = json.loads(applied.run("plan", "e2e", "--json").stdout)
    steps = {s["name"]: s["action"] for s in plan["steps"]}
    assert steps["environment"] == "ok" and steps["pypi"] == "run"
    done = applied.run("apply", "e2e")
    assert done.returncode == 0, done.stderr
    assert "linking" not in done.stderr and "pypi: installing" in done.stderr
    assert applied.run("status", "e2e").returncode == 0


def test_keep_extras_leaves_a_stray_wheel_and_status_still_names_it(applied: E2E) -> None:
    stray = builders.wheel(applied.tmp / "stray", "provtest-stray", "0.1", "STRAY = 1\n")
    uv_pip(applied, "install", str(stray))
    assert "up to date" in applied.run("apply", "e2e", "--keep-extras").stdout
    assert list(site(applied).glob("provtest_stray*"))
    status = applied.run("status", "e2e")
    assert status.returncode == 1 and "provtest-stray 0.1 installed outside the lock (pypi)" in status.stdout


def test_a_different_version_installed_by_hand_is_put_back(applied: E2E) -> None:
    uv_pip(applied, "install", str(applied.tmp / "wheels" / "provtest_hello-2.0-py3-none-any.whl"))
    status = applied.run("status", "e2e")
    assert status.stdout.strip() == "provtest-hello 2.0 installed, the lock has 1.0 (pypi)"
    assert applied.run("apply", "e2e").returncode == 0
    assert applied.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "1.0"


def test_files_check_names_a_changed_file_and_repair_files_puts_it_back(applied: E2E) -> None:
    (applied.prefix / "share" / "provtest" / "base.txt").write_text("edited by hand\n")
    (site(applied) / "provtest_extra.py").write_text("EXTRA = False\n")
    assert applied.run("status", "e2e").returncode == 0, "package records alone cannot see file edits"
    deep = applied.run("status", "e2e", "--files")
    assert deep.returncode == 1
    assert deep.stdout.splitlines() == [
        "provtest-base 1.0: 1 file(s) modified or missing: share/provtest/base.txt (conda)",
        "provtest-extra 1.0: 1 file(s) modified or missing: provtest_extra.py (pypi)",
    ]
    repaired = applied.run("apply", "e2e", "--repair-files")
    assert repaired.returncode == 0, repaired.stderr
    assert (applied.prefix / "share" / "provtest" / "base.txt").read_text() == "base 1\n"
    assert applied.in_env("import provtest_extra; print(provtest_extra.EXTRA)") == "True"
    assert applied.run("status", "e2e", "--files").returncode == 0


def test_a_repointed_conda_softlink_is_drift_and_repair_files_relinks_it(applied: E2E) -> None:
    python = applied.prefix / "bin" / "python"
    original = os.readlink(python)
    python.unlink()
    python.symlink_to(sys.executable if sys.executable != original else "/bin/sh")
    deep = applied.run("status", "e2e", "--files")
    assert deep.returncode == 1
    running = ".".join(map(str, sys.version_info[:3]))  # the fixture channel's python is this interpreter's
    assert f"python {running}: 1 file(s) modified or missing: bin/python (conda)" in deep.stdout.splitlines()
    repaired = applied.run("apply", "e2e", "--repair-files")
    assert repaired.returncode == 0, repaired.stderr
    assert os.readlink(python) == original
    assert applied.run("status", "e2e", "--files").returncode == 0


def test_a_softlink_recorded_by_conda_is_held_to_the_content_it_leads_to_inside_the_prefix(tmp_path: Path) -> None:
    """conda (not rattler) records a softlink by the hash of the file it points to, with no sha256_in_prefix:
    such a link is taken while it leads to that content inside the prefix, and never read outside it."""
    from provision.apply.drift import file_drift
    from provision.apply.state import read_state

    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "lib").mkdir()
    (prefix / "lib" / "libx.so.1").write_bytes(b"library")
    (prefix / "lib" / "libx.so").symlink_to("libx.so.1")
    digest = hashlib.sha256(b"library").hexdigest()
    paths = [{"_path": "lib/libx.so.1", "path_type": "hardlink", "sha256": digest, "size_in_bytes": 7},
             {"_path": "lib/libx.so", "path_type": "softlink", "sha256": digest, "size_in_bytes": 7}]  # fmt: skip
    (prefix / "conda-meta" / "x-1.0-0.json").write_text(json.dumps(
        {"name": "x", "version": "1.0", "build": "0", "paths_data": {"paths": paths, "paths_version": 1}}))  # fmt: skip
    assert file_drift(prefix, read_state(prefix)) == []
    (tmp_path / "outside.so").write_bytes(b"library")  # the same bytes, outside the prefix
    (prefix / "lib" / "libx.so").unlink()
    (prefix / "lib" / "libx.so").symlink_to(tmp_path / "outside.so")
    assert [d.files for d in file_drift(prefix, read_state(prefix))] == [("lib/libx.so",)]


def test_an_unfinished_apply_is_not_up_to_date_even_when_the_packages_match(applied: E2E) -> None:
    (applied.prefix / ".provision" / "stamp.json").unlink()
    status = applied.run("status", "e2e")
    assert status.returncode == 0 and "did not finish" in status.stderr
    plan = applied.run("plan", "e2e")
    assert "the last apply did not finish" in plan.stdout and "up to date" not in plan.stdout
    assert applied.run("apply", "e2e").returncode == 0
    assert "up to date" in applied.run("apply", "e2e").stdout


def test_a_no_op_apply_answers_from_the_stamp_without_loading_click_or_the_profile(applied: E2E) -> None:
    assert "up to date" in applied.run("apply", "e2e").stdout  # records the inputs for the quick answer
    probe = (
        "import sys; from provision.quick import up_to_date; "
        f"line = up_to_date(['--root', {str(applied.root)!r}, 'apply', 'e2e']); "
        "print(line); print(sorted(m for m in ('click', 'pydantic', 'yaml', 'rattler') if m in sys.modules))"
    )
    quick = subprocess.run([sys.executable, "-c", probe], env=applied.env, capture_output=True, text=True)
    assert quick.stdout.splitlines() == [f"e2e: up to date ({applied.prefix})", "[]"], quick.stderr
    # Any change the quick answer cannot judge sends apply down the full path, which sees the drift.
    uv_pip(applied, "uninstall", "provtest-extra")
    again = subprocess.run([sys.executable, "-c", probe], env=applied.env, capture_output=True, text=True)
    assert again.stdout.splitlines()[0] == "None"
    assert "pypi: installing" in applied.run("apply", "e2e").stderr
    (applied.root / "profiles" / "other.yaml").write_text("name: other\nplatforms: [linux-64]\nkind: venv\n")
    assert "up to date" in applied.run("apply", "e2e").stdout  # full path: an unrelated profile changed
    final = subprocess.run([sys.executable, "-c", probe], env=applied.env, capture_output=True, text=True)
    assert final.stdout.splitlines()[0] == f"e2e: up to date ({applied.prefix})"


def test_the_quick_record_is_void_when_its_stamp_changed_or_is_not_a_file(applied: E2E) -> None:
    """The record holds its stamp's hash: a stamp edited by anything but an apply voids it; and a FIFO put where
    the record or the stamp was never blocks the answer (hand-made hostile prefix)."""
    probe = (
        "from provision.quick import up_to_date; "
        f"print(up_to_date(['--root', {str(applied.root)!r}, 'apply', 'e2e']))"
    )

    def quick() -> str:
        done = subprocess.run([sys.executable, "-c", probe], env=applied.env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        return done.stdout.strip()

    assert "up to date" in applied.run("apply", "e2e").stdout
    assert quick() == f"e2e: up to date ({applied.prefix})"
    stamp = applied.prefix / ".provision" / "stamp.json"
    stamp.write_text(stamp.read_text().replace('"exact": true', '"exact": false'))
    assert quick() == "None"
    assert "up to date" in applied.run("apply", "e2e").stdout  # the full path writes both again
    assert quick() == f"e2e: up to date ({applied.prefix})"
    for name in ("quick", "stamp.json"):
        path = applied.prefix / ".provision" / name
        saved = path.read_bytes()
        path.unlink()
        os.mkfifo(path)
        assert quick() == "None"
        path.unlink()
        path.write_bytes(saved)
    assert quick() == f"e2e: up to date ({applied.prefix})"


def test_the_verify_report_fingerprint_says_whether_the_environment_matches(
    applied: E2E, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provision.apply.inputs import environment_fingerprint
    from provision.apply.target import target_for_profile
    from provision.project import Project

    monkeypatch.setenv("PROVISION_HOME", applied.env["PROVISION_HOME"])
    target = target_for_profile(Project(applied.root), "e2e", None, "linux-64")
    before = environment_fingerprint(target)
    assert before["matches_lock"] is True and before["differences"] == []
    uv_pip(applied, "uninstall", "provtest-extra")
    after = environment_fingerprint(target)
    assert after["matches_lock"] is False and after["differences"] == ["provtest-extra 1.0 missing (pypi)"]
    assert after["lock_sha256"] == before["lock_sha256"] and after["installed_sha256"] != before["installed_sha256"]


def test_a_file_changed_in_uvs_cache_never_reaches_a_new_environment(applied: E2E) -> None:
    """Hostile cache: uv installs a wheel from its own unpacked copy (keyed by path and time, never hashed again)
    and hard-links the files. A module changed there is held to the verified wheel's RECORD at install, installed
    again from the wheel itself, and said; the environment is exactly the lock."""
    assert applied.run("remove", "e2e").returncode == 0  # made again from provision's cache, where uv keys it
    assert applied.run("apply", "e2e", "--no-verify").returncode == 0
    planted = list((applied.tmp / "uv-cache").glob("archive-v*/*/provtest_extra.py"))
    assert planted, "uv keeps the unpacked wheel in its cache"
    for path in planted:
        with path.open("r+") as handle:  # in place, as an edit through a hard link is
            handle.truncate(0)
            handle.write("EXTRA = 'planted'\n")
    assert applied.run("remove", "e2e").returncode == 0
    again = applied.run("apply", "e2e", "--no-verify")
    assert again.returncode == 0, again.stderr
    assert ("pypi: uv's cache held other files than the verified wheel of provtest-extra; installed again from the "
            "wheel (`uv cache clean provtest-extra` clears that copy)") in again.stderr  # fmt: skip
    assert applied.in_env("import provtest_extra; print(provtest_extra.EXTRA)") == "True"
    assert applied.run("status", "e2e", "--files").returncode == 0


def test_a_users_uv_link_mode_of_symlink_changes_nothing_provision_installs(applied: E2E) -> None:
    """UV_LINK_MODE=symlink (set for uv's cache on another drive) would leave links into uv's cache in the prefix,
    which the check after install cannot vouch for; provision names uv's default mode for its own installs."""
    assert applied.run("remove", "e2e").returncode == 0
    again = applied.run("apply", "e2e", "--no-verify", extra={"UV_LINK_MODE": "symlink"})
    assert again.returncode == 0, again.stderr
    assert not (site(applied) / "provtest_extra.py").is_symlink()
    assert applied.run("status", "e2e", "--files").returncode == 0
