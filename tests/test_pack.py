"""Offline packs: pack a locked platform, install it inside a network namespace with no network at
all (acceptance included), and refuse a tampered or hostile pack with nothing installed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import REPO
from .world import E2E, PROVISION

# The interpreter under the test venv: a python3 with no provision installed, as on a bare node.
BARE_PYTHON = str(Path(sys.base_prefix) / "bin" / "python3")


def offline(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `argv` in a new network namespace (no interface but a down loopback): nothing can be fetched."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.fail("the offline test needs root and util-linux's unshare (CI runs as root)")
    return subprocess.run([unshare, "-n", *argv], env=env, capture_output=True, text=True, timeout=600)


def with_a_flipped_byte(pack: Path, out: Path, chosen: Callable[[str], bool]) -> Path:
    """A copy of `pack` whose chosen members each have their last byte flipped."""
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(out, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            copy.writestr(item, data[:-1] + bytes([data[-1] ^ 1]) if chosen(item.filename) else data)
    return out


@pytest.fixture
def world(tmp_path: Path) -> E2E:
    e2e = E2E(tmp_path)
    assert e2e.run("lock", "e2e").returncode == 0
    return e2e


def test_a_pack_installs_with_no_network_and_a_tampered_one_is_refused(world: E2E, tmp_path: Path) -> None:
    pack = tmp_path / "e2e.pack"
    made = world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack), "--no-bootstrap")
    assert made.returncode == 0, made.stderr
    assert "packed 5 packages for linux-64" in made.stdout
    env = {**world.env, "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}  # nothing cached: all from the pack
    target = tmp_path / "offline-env"
    done = offline([PROVISION, "apply", "--pack", str(pack), "--prefix", str(target)], env)
    assert done.returncode == 0, done.stderr
    assert (target / "share/provtest/tool.txt").read_text() == "tool 1\n"
    assert world.run("status", "--lockfile", str(world.root / "envs/e2e/conda-lock.yml"), "--prefix",
                     str(target)).returncode == 0  # fmt: skip

    # Flip a byte of one artifact inside the pack: refused at install, nothing created.
    tampered = with_a_flipped_byte(pack, tmp_path / "tampered.pack", lambda name: name.endswith("tool-1.0-0.tar.bz2"))
    refused_at = tmp_path / "never"
    refused = offline([PROVISION, "apply", "--pack", str(tampered), "--prefix", str(refused_at)], env)
    assert refused.returncode == 5 and "hash mismatch" in refused.stderr, refused.stderr
    assert not refused_at.exists()


@pytest.mark.parametrize("member", ["../escape.txt", "bootstrap/code/provision/../../escape.txt",
                                    "bootstrap/wheels/../escape.whl", "bootstrap/code/other/x.py"])  # fmt: skip
def test_a_pack_with_a_hostile_member_is_refused(world: E2E, tmp_path: Path, member: str) -> None:
    hostile = tmp_path / "hostile.pack"
    with zipfile.ZipFile(hostile, "w") as out:
        out.writestr("pack.json", '{"schema": 1, "name": "x", "platform": "linux-64", "profile": null}')
        out.writestr(member, "x")
    done = world.run("apply", "--pack", str(hostile), "--prefix", str(tmp_path / "p"))
    assert done.returncode == 1 and f"unexpected member {member!r}" in done.stderr
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "p").exists()


def test_a_pack_without_provision_says_how_to_apply_it(world: E2E, tmp_path: Path) -> None:
    pack = tmp_path / "bare.pack"
    assert world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack), "--no-bootstrap").returncode == 0
    done = subprocess.run([BARE_PYTHON, "-I", str(pack), "apply"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "carries no provision (made with --no-bootstrap)" in done.stderr
    assert "provision apply --pack FILE" in done.stderr


def test_the_runner_refuses_another_python_or_platform() -> None:
    from provision.consumers import pack_runner

    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with pytest.raises(pack_runner.Refused, match=rf"runs on Python 3\.98, 3\.99 and this is {mine}") as other:
        pack_runner.check_host({"pythons": {"3.99": [], "3.98": []}, "platform": pack_runner.host_platform()})
    assert other.value.code == 3 and f"--bootstrap-python {mine}" in str(other.value)
    assert pack_runner.check_host({"pythons": {mine: ["w"]}, "platform": pack_runner.host_platform()}) == ["w"]
    with pytest.raises(pack_runner.Refused, match="this pack is for osx-arm64 and this machine is linux-64"):
        pack_runner.check_host({"pythons": {mine: []}, "platform": "osx-arm64"})
    with pytest.raises(pack_runner.Refused, match="unsafe member name"):
        pack_runner.safe_member("provision/../../etc/passwd")


@pytest.mark.network
@pytest.mark.slow
def test_linux_cpu_packed_then_applied_offline_passes_its_acceptance_run(tmp_path: Path) -> None:
    env = {**os.environ, "PROVISION_HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "UV_CACHE_DIR": str(tmp_path / "uv")}  # fmt: skip
    pack = tmp_path / "linux-cpu.pack"
    made = subprocess.run([PROVISION, "--root", str(REPO), "pack", "linux-cpu", "--platform", "linux-64", "-o",
                           str(pack), "--bootstrap-python", "3.12"], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stderr
    # Provision for a second Python rides along: its own compiled wheels, each listed with the hash it has.
    with zipfile.ZipFile(pack) as packed:
        manifest = json.loads(packed.read("bootstrap/manifest.json"))
        assert sorted(manifest["pythons"]) == ["3.11", "3.12"]
        core = next(w for w in manifest["pythons"]["3.12"] if w["name"] == "pydantic-core")
        assert "-cp312-" in core["file"]
        assert hashlib.sha256(packed.read("bootstrap/wheels/" + core["file"])).hexdigest() == core["sha256"]
        # What a node needs to apply and verify: no lock writer, no charting (bootstrap.TEAM_SIDE) and none of
        # their dependencies; the packed provision says so in one line when asked for them.
        carried = {w["name"] for w in manifest["pythons"]["3.11"]}
        assert {"conda-lock", "matplotlib", "numpy", "keyring", "cryptography"}.isdisjoint(carried)
        assert {"pydantic", "py-rattler", "uv", "click"} <= carried
    # A bare node: python3 and nothing else on PATH, no network, no provision: `python3 PACK apply`.
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "node-home"), "TMPDIR": str(tmp_path),
            "PROVISION_HOME": str(tmp_path / "node-provision")}  # fmt: skip
    prefix = tmp_path / "node-env"
    # (apply's own acceptance after a change is the README's first command's, tests/test_first_day.py)
    done = offline([BARE_PYTHON, "-I", str(pack), "apply", "--prefix", str(prefix), "--yes", "--no-verify"], bare)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    reports = tmp_path / "reports"
    checked = offline([BARE_PYTHON, "-I", str(pack), "verify", "--prefix", str(prefix), "--quick", "--report",
                       str(reports)], bare)  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "PASS linux-cpu" in checked.stdout
    assert (reports / "verify-linux-cpu.json").is_file()
    assert not (reports / "verify-linux-cpu.png").exists()  # charts are drawn where reports are gathered
    (tmp_path / "node-project" / "profiles").mkdir(parents=True)
    shutil.copy(REPO / "profiles" / "linux-cpu.yaml", tmp_path / "node-project" / "profiles")
    locking = offline([BARE_PYTHON, "-I", str(pack), "--root", str(tmp_path / "node-project"), "lock",
                       "linux-cpu", "--platform", "linux-64"], bare)  # fmt: skip
    assert locking.returncode == 1, locking.stderr[-2000:]
    assert locking.stderr.splitlines()[-1].startswith("error: writing a lock needs conda-lock, which is not installed")
    assert not list(tmp_path.glob("provision-bootstrap-*")), "the runner's private folder is removed"
    # The runner's own install of provision leaves nothing in the node user's uv cache (the environment's wheels,
    # installed by apply, are the cache's to keep).
    assert not list((tmp_path / "node-home").glob(".cache/uv/archive-v*/*/pydantic")), "no runner entry in uv's cache"

    # One flipped byte in a packed wheel of provision itself: refused before anything runs.
    tampered = with_a_flipped_byte(
        pack, tmp_path / "tampered.pack", lambda name: name.startswith("bootstrap/wheels/click-")
    )
    never = tmp_path / "never"
    refused = offline([BARE_PYTHON, "-I", str(tampered), "apply", "--prefix", str(never), "--yes"], bare)
    assert refused.returncode == 5 and refused.stderr.count("\n") == 1, refused.stderr
    assert "does not match its sha256" in refused.stderr and not never.exists()


@pytest.mark.parametrize("wheel", [
    {"name": "x --index-url http://evil.example", "file": "x-1-py3-none-any.whl", "sha256": "0" * 64},
    {"name": "x", "file": "../../x-1-py3-none-any.whl", "sha256": "0" * 64},
    {"name": "x", "file": "x-1-py3-none-any.whl\n-e /", "sha256": "0" * 64},
])  # fmt: skip
def test_a_hostile_bootstrap_manifest_is_refused_before_anything_runs(tmp_path: Path, wheel: dict[str, str]) -> None:
    from provision.consumers import pack_runner

    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    hostile = tmp_path / "hostile.pack"
    with zipfile.ZipFile(hostile, "w") as out:
        out.write(pack_runner.__file__, "__main__.py")
        manifest = {"schema": 2, "platform": pack_runner.host_platform(), "pythons": {mine: [wheel]}, "code": []}
        out.writestr("bootstrap/manifest.json", json.dumps(manifest))
    done = subprocess.run([sys.executable, "-I", str(hostile), "apply"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}, timeout=60)  # fmt: skip
    assert done.returncode == 5 and done.stderr.count("\n") == 1, done.stderr
    assert "malformed wheel" in done.stderr
    assert not list(tmp_path.glob("provision-bootstrap-*"))
