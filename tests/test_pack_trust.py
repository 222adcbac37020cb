"""Packs checked from outside and bounded before anything is unpacked: the sha256 written beside a pack,
its OpenSSH signature, the runner's own check, hostile archives (zip bomb, too many members, duplicate
names, a damaged member, a deeply nested pack.json), and the private unpacked copy removed on SIGTERM
or, after a SIGKILL, by the next run. Every pack here is made by the real CLI from the e2e world of
tests/test_pack.py, or is a hostile one made by hand (and named so)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provision.apply.prefix_lock import prefix_lock
from provision.consumers.pack_runner import NO_OUTSIDE_CHECK, OWNER

from .inprocess import provision as call
from .test_pack import BARE_PYTHON
from .world import E2E, PROVISION

MiB = 2**20


@dataclass(frozen=True)
class Made:
    world: E2E
    pack: Path  # e2e.pack, made with --no-bootstrap (its runner still answers `python3 PACK`)
    stdout: str


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    world = E2E(tmp_path_factory.mktemp("trust"))
    assert world.run("lock", "e2e").returncode == 0
    pack = world.tmp / "out" / "e2e.pack"
    done = world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack), "--no-bootstrap")
    assert done.returncode == 0, done.stderr
    return Made(world, pack, done.stdout)


@pytest.fixture
def tmpdir_env(made: Made, tmp_path: Path) -> dict[str, str]:
    """The world's environment with TMPDIR an empty folder of this test's own (see `unpacked`)."""
    (tmp_path / "tmpdir").mkdir()
    return {**made.world.env, "TMPDIR": str(tmp_path / "tmpdir")}


def unpacked(env: dict[str, str]) -> list[str]:
    return sorted(os.listdir(env["TMPDIR"]))


def provision(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return call(args, env)


def runner(pack: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python3 PACK ...` on a bare node: the interpreter and nothing else."""
    bare = {"PATH": "/usr/bin:/bin", "TMPDIR": env["TMPDIR"], "HOME": env["HOME"]}
    return subprocess.run([BARE_PYTHON, "-I", str(pack), *args], env=bare, capture_output=True, text=True, timeout=300)


def refusal(done: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The one line a refusal prints (besides the note that no outside checksum was given)."""
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.endswith(NO_OUTSIDE_CHECK)]
    assert done.returncode == code and len(lines) == 1, (done.returncode, done.stderr)
    return lines[0]


def sha256_line(pack: Path) -> str:
    return (pack.parent / f"{pack.name}.sha256").read_text()


def with_a_flipped_stored_byte(pack: Path, out: Path) -> Path:
    """A copy of `pack` with one byte flipped in the middle of its first artifact's stored data, in the file
    itself: the zip's records, the member's CRC and the runner (`__main__.py`) are left as they were."""
    data = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith("artifacts/"))
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_length + extra_length + info.compress_size // 2] ^= 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


# ----------------------------------------------------------------------------- the sha256 beside the pack


def test_the_pack_has_its_sha256_beside_it_and_sha256sum_accepts_it(made: Made, tmpdir_env: dict[str, str]) -> None:
    digest, name = sha256_line(made.pack).rstrip("\n").split("  ")
    assert name == "e2e.pack" and sha256_line(made.pack) == f"{digest}  e2e.pack\n"
    assert f"sha256 {digest} (in {made.pack}.sha256" in made.stdout
    checked = subprocess.run(["sha256sum", "-c", "e2e.pack.sha256"], cwd=made.pack.parent, capture_output=True,
                             text=True)  # fmt: skip
    assert checked.returncode == 0 and checked.stdout == "e2e.pack: OK\n", checked.stdout + checked.stderr

    # With the checksum: no note. Without: one plain note line on stderr, and the pack is still used.
    vouched = provision(tmpdir_env, "plan", "--pack", str(made.pack), "--sha256-file", f"{made.pack}.sha256")
    assert vouched.returncode == 0 and "note:" not in vouched.stderr, vouched.stderr
    alone = provision(tmpdir_env, "plan", "--pack", str(made.pack))
    assert alone.returncode == 0, alone.stderr
    assert f"note: {made.pack}: {NO_OUTSIDE_CHECK}\n" in alone.stderr
    assert unpacked(tmpdir_env) == []


def test_a_pack_applies_with_its_sha256(made: Made, tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    digest = sha256_line(made.pack).split()[0]
    done = provision(tmpdir_env, "apply", "--pack", str(made.pack), "--sha256", digest.upper(), "--prefix",
                     str(prefix))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (prefix / "share/provtest/tool.txt").read_text() == "tool 1\n"
    assert unpacked(tmpdir_env) == [], "the unpacked copy is removed when the command ends"


@pytest.mark.parametrize("command", ["apply", "status", "verify"])
def test_a_pack_changed_by_one_byte_is_refused_before_it_is_opened(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path, command: str
) -> None:
    changed = with_a_flipped_stored_byte(made.pack, tmp_path / "copy" / "e2e.pack")
    prefix = tmp_path / "env"
    done = provision(tmpdir_env, command, "--pack", str(changed), "--sha256-file", f"{made.pack}.sha256", "--prefix",
                     str(prefix))  # fmt: skip
    line = refusal(done)
    digest, actual = sha256_line(made.pack).split()[0], hashlib.sha256(changed.read_bytes()).hexdigest()
    assert f"its sha256 is {actual} but --sha256-file {made.pack}.sha256 says {digest}" in line, line
    assert "nothing was unpacked" in line
    assert unpacked(tmpdir_env) == [] and not prefix.exists()


def test_the_runner_refuses_a_changed_pack_before_it_is_opened(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path
) -> None:
    changed = with_a_flipped_stored_byte(made.pack, tmp_path / "copy" / "e2e.pack")
    digest = sha256_line(made.pack).split()[0]
    for option in (["--sha256-file", f"{made.pack}.sha256"], [f"--sha256={digest}"]):
        line = refusal(runner(changed, tmpdir_env, "apply", *option, "--prefix", str(tmp_path / "env")))
        assert line.startswith("error: e2e.pack: its sha256 is ") and f"says {digest}" in line, line
        assert unpacked(tmpdir_env) == []
    # The pack itself passes the runner's check, and goes on to say (in one line) what it lacks.
    passed = refusal(runner(made.pack, tmpdir_env, "apply", "--sha256", digest))
    assert "carries no provision (made with --no-bootstrap)" in passed


def test_without_a_checksum_a_damaged_member_is_one_line(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path
) -> None:
    # No outside checksum: the member's CRC (zipfile) catches the damage while it is unpacked.
    changed = with_a_flipped_stored_byte(made.pack, tmp_path / "copy" / "e2e.pack")
    line = refusal(provision(tmpdir_env, "apply", "--pack", str(changed), "--prefix", str(tmp_path / "env")), 5)
    assert "in the pack is damaged (Bad CRC-32" in line, line
    assert unpacked(tmpdir_env) == []


def test_checksum_options_are_checked_themselves(made: Made, tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    bad = refusal(provision(tmpdir_env, "plan", "--pack", str(made.pack), "--sha256", "abc"))
    assert "--sha256 'abc' is not a sha256 (64 hex digits)" in bad
    other = tmp_path / "SHA256SUMS"
    other.write_text(f"{'0' * 64}  a.pack\n{'1' * 64}  b.pack\n")
    assert "no single `sha256sum` line for e2e.pack" in refusal(
        provision(tmpdir_env, "plan", "--pack", str(made.pack), "--sha256-file", str(other))
    )
    # A file listing several packs: the pack's own line is the one used.
    other.write_text(f"{'0' * 64}  a.pack\n{sha256_line(made.pack)}")
    assert provision(tmpdir_env, "plan", "--pack", str(made.pack), "--sha256-file", str(other)).returncode == 0
    orphan = provision(tmpdir_env, "plan", "e2e", "--sha256", "0" * 64)
    assert orphan.returncode == 2 and "check a --pack FILE" in orphan.stderr


# ----------------------------------------------------------------------------- signatures (OpenSSH)


def ssh_key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def test_a_signed_pack_is_verified_and_another_signer_is_refused(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.fail("the signature test needs ssh-keygen (apt-get install openssh-client)")
    key, other = ssh_key(tmp_path, "builder"), ssh_key(tmp_path, "someone-else")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("builder@example.org " + " ".join(Path(f"{key}.pub").read_text().split()[:2]) + "\n")
    pack = tmp_path / "signed" / "e2e.pack"
    made_signed = made.world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack), "--no-bootstrap",
                                 "--sign", str(key))  # fmt: skip
    assert made_signed.returncode == 0, made_signed.stderr
    assert f"signed: {pack}.sig" in made_signed.stdout
    signature = Path(f"{pack}.sig")

    verified = provision(tmpdir_env, "plan", "--pack", str(pack), "--allowed-signers", str(allowed))
    assert verified.returncode == 0 and "note:" not in verified.stderr, verified.stderr
    runner_ok = refusal(runner(pack, tmpdir_env, "apply", "--allowed-signers", str(allowed)))
    assert "carries no provision" in runner_ok  # the signature passed; then the one line a bare pack gives

    # The same pack signed by a key the signers file does not name.
    signature.unlink()
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(other), "-n", "provision-pack", str(pack)], check=True,
                   capture_output=True)  # fmt: skip
    for done in (provision(tmpdir_env, "apply", "--pack", str(pack), "--allowed-signers", str(allowed)),
                 runner(pack, tmpdir_env, "apply", "--allowed-signers", str(allowed))):  # fmt: skip
        assert f"{pack.name}.sig was made by a key that {allowed} does not allow" in refusal(done)

    # The right key, for another purpose (namespace): refused.
    signature.unlink()
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", "git", str(pack)], check=True,
                   capture_output=True)  # fmt: skip
    assert "does not verify for the signer 'builder@example.org'" in refusal(
        provision(tmpdir_env, "apply", "--pack", str(pack), "--allowed-signers", str(allowed))
    )

    # A changed pack beside the signature of the original: refused.
    signature.unlink()
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", "provision-pack", str(pack)], check=True,
                   capture_output=True)  # fmt: skip
    changed = with_a_flipped_stored_byte(pack, tmp_path / "changed" / "e2e.pack")
    shutil.copy(signature, f"{changed}.sig")
    assert "does not verify for the signer 'builder@example.org'" in refusal(
        provision(tmpdir_env, "apply", "--pack", str(changed), "--allowed-signers", str(allowed))
    )
    # No signature at all.
    signature.unlink()
    assert "no signature e2e.pack.sig beside it" in refusal(
        provision(tmpdir_env, "apply", "--pack", str(pack), "--allowed-signers", str(allowed))
    )
    assert unpacked(tmpdir_env) == []


def test_packing_again_drops_the_old_signature(made: Made, tmp_path: Path) -> None:
    pack = tmp_path / "e2e.pack"
    Path(f"{pack}.sig").write_text("a signature of an older pack")
    assert made.world.run("pack", "e2e", "--platform", "linux-64", "-o", str(pack), "--no-bootstrap").returncode == 0
    assert not Path(f"{pack}.sig").exists() and Path(f"{pack}.sha256").is_file()


# ----------------------------------------------------------------------------- hostile archives (made by hand)

SETTINGS = '{"schema": 1, "name": "x", "platform": "linux-64", "profile": null}'


def hostile_pack(path: Path, members: Iterator[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    """A HOSTILE pack, made by hand: the runner (so `python3 PACK` runs), then `members`."""
    from provision.consumers import pack_runner

    with zipfile.ZipFile(path, "w", compression) as out:
        out.write(pack_runner.__file__, "__main__.py")
        for name, data in members:
            out.writestr(name, data)
    return path


def test_a_zip_bomb_is_refused_before_anything_is_written(tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    # HOSTILE: one member of 1 GiB of zeros, deflated to about 1 MB, streamed so the test stays fast.
    bomb = hostile_pack(tmp_path / "bomb.pack", iter([("pack.json", SETTINGS.encode())]))
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as out, \
            out.open(f"artifacts/{'0' * 64}/bomb-1.0-0.tar.bz2", "w", force_zip64=True) as member:  # fmt: skip
        zeros = bytes(MiB)
        for _ in range(1024):
            member.write(zeros)
    assert bomb.stat().st_size < 3 * MiB
    for done in (provision(tmpdir_env, "apply", "--pack", str(bomb), "--prefix", str(tmp_path / "env")),
                 runner(bomb, tmpdir_env, "apply")):  # fmt: skip
        line = refusal(done)
        assert "inflates" in line and "to 1073741824 (over 200:1, a zip bomb)" in line, line
        assert unpacked(tmpdir_env) == []


def test_a_pack_larger_than_the_limit_is_refused(made: Made, tmpdir_env: dict[str, str]) -> None:
    small = {**tmpdir_env, "PROVISION_PACK_MAX_BYTES": "1000"}
    line = refusal(provision(small, "plan", "--pack", str(made.pack)))
    assert "more than 1000 (PROVISION_PACK_MAX_BYTES sets the limit)" in line
    assert "give a number of bytes" in refusal(
        provision({**tmpdir_env, "PROVISION_PACK_MAX_BYTES": "1e9"}, "plan", "--pack", str(made.pack))
    )


def test_a_hundred_thousand_members_are_refused_quickly(tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    def empty_members(count: int) -> Iterator[tuple[str, bytes]]:
        return ((f"artifacts/{i:064x}/x-1-0.conda", b"") for i in range(count))

    # HOSTILE: 100,000 empty members; and 30,000 for the runner (Python before 3.13 cannot even find the
    # `__main__.py` of a zip with over 65,535 members, so `python3 PACK` never reaches the runner).
    many = hostile_pack(tmp_path / "many.pack", empty_members(100_000))
    fewer = hostile_pack(tmp_path / "fewer.pack", empty_members(30_000))
    started = time.perf_counter()
    line = refusal(provision(tmpdir_env, "plan", "--pack", str(many)))
    assert time.perf_counter() - started < 10
    assert "it has over 65,534 members in a directory of" in line and "a pack has at most 20000" in line, line
    started = time.perf_counter()
    line = refusal(runner(fewer, tmpdir_env, "apply"))
    assert time.perf_counter() - started < 10
    assert "it has 30001 members" in line and "refused before unpacking anything" in line, line
    assert unpacked(tmpdir_env) == []


def test_duplicate_member_names_are_refused(tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    # HOSTILE: pack.json twice (readers disagree on which copy counts).
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = hostile_pack(tmp_path / "twice.pack", iter([("pack.json", SETTINGS.encode()),
                                                            ("pack.json", b'{"schema": 1, "name": "y"}')]))  # fmt: skip
    for done in (provision(tmpdir_env, "plan", "--pack", str(twice)), runner(twice, tmpdir_env, "apply")):
        assert "the member 'pack.json' appears twice" in refusal(done)
    assert unpacked(tmpdir_env) == []


def test_a_deeply_nested_settings_file_is_one_line(tmpdir_env: dict[str, str], tmp_path: Path) -> None:
    # HOSTILE: pack.json nested 100,000 deep, and a bootstrap manifest nested as deep for the runner.
    nested = ("[" * 100_000 + "]" * 100_000).encode()
    deep = hostile_pack(tmp_path / "deep.pack", iter([("pack.json", nested), ("bootstrap/manifest.json", nested)]))
    assert "no readable pack.json (RecursionError)" in refusal(provision(tmpdir_env, "plan", "--pack", str(deep)))
    assert "bootstrap/manifest.json is not readable JSON" in refusal(runner(deep, tmpdir_env, "apply"))
    assert unpacked(tmpdir_env) == []


# ----------------------------------------------------------------------------- the unpacked copy, killed


def waiting_apply(made: Made, env: dict[str, str], prefix: Path) -> subprocess.Popen[str]:
    """`apply --pack` stopped, once unpacked, on the prefix lock the caller holds."""
    waiting = subprocess.Popen([PROVISION, "apply", "--pack", str(made.pack), "--prefix", str(prefix)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert waiting.stderr is not None
    seen = ""
    while "waiting for another provision apply" not in seen:
        line = waiting.stderr.readline()
        assert line, f"apply ended before it waited: {seen}"
        seen += line
    return waiting


def test_sigterm_during_apply_removes_the_unpacked_copy(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", tmpdir_env["PROVISION_HOME"])  # the lock lives under the same home
    prefix = tmp_path / "env"
    with prefix_lock(prefix, wait=True, notify=print):
        waiting = waiting_apply(made, tmpdir_env, prefix)
        [folder] = unpacked(tmpdir_env)
        assert folder.startswith("provision-pack-")
        owner = (Path(tmpdir_env["TMPDIR"]) / folder / OWNER).read_text().split()
        assert owner == [str(waiting.pid), socket.gethostname()]
        waiting.send_signal(signal.SIGTERM)
        _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 130 and err.strip() == "interrupted", err
    assert unpacked(tmpdir_env) == [] and not prefix.exists()


def test_a_copy_left_by_sigkill_is_removed_by_the_next_run(
    made: Made, tmpdir_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVISION_HOME", tmpdir_env["PROVISION_HOME"])
    tmpdir = Path(tmpdir_env["TMPDIR"])
    # Folders that are not this host's dead runs' stay: a live process's, another host's (a shared
    # temp dir), one with no owner file, another program's.
    kept = {"provision-pack-live": f"{os.getpid()} {socket.gethostname()}", "provision-pack-other-host":
            "999999999 another-node", "provision-pack-no-owner": None, "unrelated-dir": "999999999 x"}  # fmt: skip
    for name, owner in kept.items():
        (tmpdir / name).mkdir()
        if owner is not None:
            (tmpdir / name / OWNER).write_text(owner)
    prefix = tmp_path / "env"
    with prefix_lock(prefix, wait=True, notify=print):
        waiting = waiting_apply(made, tmpdir_env, prefix)
        killed = sorted(set(unpacked(tmpdir_env)) - set(kept))
        waiting.kill()  # SIGKILL: nothing of provision runs
        waiting.communicate(timeout=60)
    assert len(killed) == 1 and (tmpdir / killed[0]).is_dir(), "SIGKILL leaves the copy behind"
    again = provision(tmpdir_env, "plan", "--pack", str(made.pack), "--prefix", str(prefix))
    assert again.returncode == 0, again.stderr
    assert unpacked(tmpdir_env) == sorted(kept)
