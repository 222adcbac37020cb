"""Offline packs: pack a locked platform, install it inside a network namespace with no network at
all (acceptance included), and refuse a tampered or hostile pack with nothing installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO
from .world import E2E, PROVISION


def offline(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `argv` in a new network namespace (no interface but a down loopback): nothing can be fetched."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.fail("the offline test needs root and util-linux's unshare (CI runs as root)")
    return subprocess.run([unshare, "-n", *argv], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def world(tmp_path: Path) -> E2E:
    e2e = E2E(tmp_path)
    assert e2e.run("lock", "e2e").returncode == 0
    return e2e


def test_a_pack_installs_with_no_network_and_a_tampered_one_is_refused(world: E2E, tmp_path: Path) -> None:
    pack = tmp_path / "e2e.pack"
    made = world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack))
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
    tampered = tmp_path / "tampered.pack"
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(tampered, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("provtest-tool-1.0-0.tar.bz2"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            out.writestr(item, data)
    refused_at = tmp_path / "never"
    refused = offline([PROVISION, "apply", "--pack", str(tampered), "--prefix", str(refused_at)], env)
    assert refused.returncode == 5 and "hash mismatch" in refused.stderr, refused.stderr
    assert not refused_at.exists()


def test_a_pack_with_a_hostile_member_is_refused(world: E2E, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.pack"
    with zipfile.ZipFile(hostile, "w") as out:
        out.writestr("pack.json", '{"schema": 1, "name": "x", "platform": "linux-64", "profile": null}')
        out.writestr("../escape.txt", "x")
    done = world.run("apply", "--pack", str(hostile), "--prefix", str(tmp_path / "p"))
    assert done.returncode == 1 and "unexpected member '../escape.txt'" in done.stderr
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "p").exists()


@pytest.mark.network
@pytest.mark.slow
def test_linux_cpu_packed_then_applied_offline_passes_its_acceptance_run(tmp_path: Path) -> None:
    env = {**os.environ, "PROVISION_HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "UV_CACHE_DIR": str(tmp_path / "uv")}  # fmt: skip
    pack = tmp_path / "linux-cpu.pack"
    made = subprocess.run([PROVISION, "--root", str(REPO), "pack", "linux-cpu", "--platform", "linux-64", "-o",
                           str(pack)], env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stderr
    offline_env = {**env, "XDG_CACHE_HOME": str(tmp_path / "offline-cache"), "UV_CACHE_DIR": str(tmp_path / "uv2")}
    done = offline([PROVISION, "apply", "--pack", str(pack), "--yes"], offline_env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "PASS linux-cpu" in done.stdout
