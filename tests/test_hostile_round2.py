"""Hostile inputs from the second attacker pass (each hand-made, labelled hostile): every one is one line with
its documented exit code, never an internal error, and nothing is written where it should not be."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import REPO
from .world import E2E


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("userinfo", ["s3crettoken", "user%3As3cret", "user:s3cret"])
def test_credentials_in_an_index_url_are_refused_without_being_repeated(userinfo: str, tmp_path: Path, run_cli) -> None:
    source = tmp_path / "requirements.txt"
    source.write_text(f"--index-url https://{userinfo}@pypi.example.com/simple\nnumpy\n")
    done = run_cli("--root", str(tmp_path / "p"), "init", "x", "--from", str(source))
    assert done.code == 1 and "carries credentials (https://…@pypi.example.com)" in done.err
    assert "s3cret" not in done.err + done.out
    _one_line(done.err)


def test_a_prefix_that_cannot_be_a_folder_is_one_line(tmp_path: Path, run_cli) -> None:
    (tmp_path / "afile").write_text("hi\n")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    cases = {tmp_path / "afile" / "env": "is a file, not a folder",
             tmp_path / "loop1" / "env": "is a link that leads nowhere",
             tmp_path / "a\nb": "its path holds the control character '\\n'"}  # fmt: skip
    for prefix, said in cases.items():
        for command in (["plan"], ["apply", "--yes"]):
            done = run_cli("--root", str(REPO), *command, "linux-cpu", "--prefix", str(prefix))
            assert done.code == 1 and said in done.err, (command, prefix, done.err)
            _one_line(done.err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "loop1", "loop2"]


def test_a_slurm_rank_outside_slurm_is_one_line(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no scontrol: this is no Slurm step
    monkeypatch.setenv("SLURM_PROCID", "0")
    monkeypatch.setenv("SLURM_NTASKS", "2")
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    args = ["--root", str(REPO), "verify", "linux-cpu", "--prefix", str(REPO / ".venv-bench"), "--distributed"]
    done = run_cli(*args)
    assert done.code == 1 and "SLURM_PROCID is set but this is not a Slurm step" in done.err
    _one_line(done.err)
    monkeypatch.setenv("SLURM_PROCID", "5")
    done = run_cli(*args)
    assert done.code == 1 and "SLURM_PROCID=5 is not a rank of SLURM_NTASKS=2" in done.err


def test_a_foreign_lock_with_a_package_from_outside_its_channel_installs(tmp_path: Path) -> None:
    """A conda-lock file whose package URL lies outside its channels (hand-edited, hostile-looking but legal):
    the package is fetched from its own URL, checked against its hash, and installed."""
    world = E2E(tmp_path)
    assert world.run("lock", "e2e").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(world.channel, elsewhere)
    lock = tmp_path / "outside.conda-lock.yml"
    text = (world.root / "envs" / "e2e" / "conda-lock.yml").read_text()
    channel = world.channel.resolve().as_uri()
    first = text.index(f"url: {channel}/linux-64/provtest-tool")
    lock.write_text(text[:first] + text[first:].replace(channel, elsewhere.resolve().as_uri(), 1))
    assert elsewhere.resolve().as_uri() in lock.read_text()
    done = world.run("apply", "--lockfile", str(lock), "--prefix", str(tmp_path / "env"), "--yes", "--no-verify")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env" / "share" / "provtest" / "tool.txt").read_text() == "tool 1\n"


def test_an_explicit_list_whose_url_climbs_out_of_its_folder_is_named(tmp_path: Path, run_cli) -> None:
    listed = tmp_path / "dots.txt"
    listed.write_text("# platform: linux-64\n@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/../../../etc/"
                      f"x-1.0-0.tar.bz2#{'0' * 32}\n")  # fmt: skip
    done = run_cli("plan", "--lockfile", str(listed), "--prefix", str(tmp_path / "env"))
    assert done.code == 1 and "climbs out of its folder ('..')" in done.err and "linux-64/../../../etc" in done.err
    _one_line(done.err)


def test_infinite_numbers_in_a_facts_folder_are_unknown(tmp_path: Path, run_cli) -> None:
    import json

    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "python.txt").write_text(json.dumps({"system": "Linux", "machine": "x86_64", "libc": ["glibc", "2.36"]}))
    (facts / "disk.txt").write_text('{"free": Infinity}')
    done = run_cli("doctor", "--facts", str(facts), "--json")
    assert "internal error" not in done.err
    assert json.loads(done.out)["host"]["free_disk_bytes"] is None


def test_a_plain_http_find_links_is_noted(tmp_path: Path, run_cli) -> None:
    source = tmp_path / "requirements.txt"
    source.write_text("--find-links http://wheels.example.org/simple\nnumpy\n")
    done = run_cli("--root", str(tmp_path / "p"), "init", "x", "--from", str(source))
    assert done.code == 0, done.err
    assert "http://wheels.example.org/simple is plain http" in done.err + done.out
