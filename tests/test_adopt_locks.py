"""Foreign locks applied for real: a PyPI entry pinned to a git commit is installed from exactly that
commit (a local repository: git+file, so no network), and `status` names the pin and a drift."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import DATA


def _repository(tmp_path: Path) -> tuple[Path, list[str]]:
    """tests/data/gitdemo as a git repository with two commits (VALUE changes between them)."""
    repo = tmp_path / "gitdemo"
    shutil.copytree(DATA / "gitdemo", repo)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    commits = []
    for value in ("first", "second"):
        (repo / "src/gitdemo/__init__.py").write_text(f'VALUE = "{value}"\n')
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", value], check=True)
        commits.append(subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
                       .stdout.strip())  # fmt: skip
    return repo, commits


def _lock(path: Path, repo: Path, commit: str) -> Path:
    """A conda-lock v1 file as conda-lock writes a git entry (hand-made: the URL and commit are the test's)."""
    path.write_text(
        "version: 1\nmetadata:\n  content_hash: {}\n  channels: []\n  platforms: [linux-64]\n"
        "  sources: [pyproject.toml]\n"
        f"package:\n- name: gitdemo\n  version: 0.3.0\n  manager: pip\n  platform: linux-64\n  dependencies: {{}}\n"
        f"  url: git+{repo.as_uri()}@{commit}\n  hash:\n    sha256: {commit}\n  category: main\n  optional: false\n"
    )
    return path


def test_a_git_pinned_entry_installs_that_commit_and_status_names_it(tmp_path: Path, run_cli) -> None:
    repo, (first, second) = _repository(tmp_path)
    lock = _lock(tmp_path / "conda-lock.yml", repo, first)
    prefix = tmp_path / "env"
    applied = run_cli("apply", "--lockfile", str(lock), "--prefix", str(prefix), "--no-verify", "--yes")
    assert applied.code == 0, applied.err
    assert "installing 1 of 1 locked packages (hashes required; 1 from git at their locked commits)" in applied.err
    value = subprocess.run([str(prefix / "bin/python"), "-c", "import gitdemo; print(gitdemo.VALUE)"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert value.stdout.strip() == "first"  # the locked commit, not the repository's newest
    pip = run_cli("run", "--lockfile", str(lock), "--prefix", str(prefix), "--", "python", "-m", "pip", "list")
    assert pip.code == 1 and "is a venv made by uv and has no pip: install with `uv pip install --python" in pip.err
    exact = run_cli("status", "--lockfile", str(lock), "--prefix", str(prefix))
    assert exact.code == 0
    assert f"gitdemo 0.3.0: pinned by git commit {first[:12]} (from git, no artifact hash)" in exact.out
    _lock(lock, repo, second)
    status = run_cli("status", "--lockfile", str(lock), "--prefix", str(prefix))
    assert status.code == 1
    assert f"gitdemo 0.3.0 from commit {first[:12]} installed, the lock has git commit {second[:12]}" in status.out
    repaired = run_cli("apply", "--lockfile", str(lock), "--prefix", str(prefix), "--no-verify", "--yes")
    assert repaired.code == 0, repaired.err
    value = subprocess.run([str(prefix / "bin/python"), "-c", "import gitdemo; print(gitdemo.VALUE)"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert value.stdout.strip() == "second"
    assert run_cli("status", "--lockfile", str(lock), "--prefix", str(prefix)).code == 0


def test_a_pack_builds_a_git_entry_into_a_hashed_wheel_that_installs_offline(tmp_path: Path, run_cli) -> None:
    """A node never reaches the repository: the pack carries the wheel built at the locked commit, by sha256."""
    repo, (first, _) = _repository(tmp_path)
    lock = _lock(tmp_path / "conda-lock.yml", repo, first)
    pack = tmp_path / "git.pack"
    made = run_cli("pack", "--lockfile", str(lock), "--platform", "linux-64", "--no-bootstrap", "-o", str(pack))
    assert made.code == 0, made.err
    assert f"gitdemo built from git at {first[:12]}" in made.err
    shutil.rmtree(repo)  # from here on, the commit exists only as the packed wheel
    import zipfile

    with zipfile.ZipFile(pack) as archive:
        packed = archive.read("conda-lock.yml").decode()
    assert f"url: file:///provision-pack/built-from-git/{first}/gitdemo-0.3.0-py3-none-any.whl" in packed
    prefix = tmp_path / "node-env"
    applied = run_cli("apply", "--pack", str(pack), "--prefix", str(prefix), "--no-verify", "--yes")
    assert applied.code == 0, applied.err
    value = subprocess.run([str(prefix / "bin/python"), "-c", "import gitdemo; print(gitdemo.VALUE)"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert value.stdout.strip() == "first"


def test_a_lock_with_nothing_for_this_machine_is_refused_not_exact(tmp_path: Path, run_cli, monkeypatch) -> None:
    """A real conda-lock file with win-64 packages only: on linux-64 it names what it has, instead of calling an
    empty prefix "exactly the lock (0 packages)"."""
    monkeypatch.setenv("PROVISION_HOME", str(tmp_path / "home"))
    lock = DATA / "fixtures" / "adopt" / "conda-lock" / "soulmelody-anyf0-conda-lock.yml"
    (tmp_path / "env" / "conda-meta").mkdir(parents=True)
    for command in ("status", "apply"):
        done = run_cli(command, "--lockfile", str(lock), "--prefix", str(tmp_path / "env"))
        assert done.code == 1, done.err
        assert done.err.strip().endswith("no packages for linux-64, this machine (platforms with packages: win-64); "
                                         "use a lock made for linux-64")  # fmt: skip
    assert list((tmp_path / "env").iterdir()) == [tmp_path / "env" / "conda-meta"]
