"""Locking: real solves against real repodata (offline, through mirrors), real uv resolution
from PyPI, and interoperability with conda-lock's own reader and renderer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provision.lock.lockfile import read_lock
from provision.lock.mirrors import Mirrors
from provision.lock.pypi_layer import conda_python_packages, resolve_pypi
from provision.lock.records import LockedPackage
from provision.profile.load import lock_units
from provision.project import Project

from .conftest import REPO, make_profile

FIXTURES = Path(__file__).resolve().parent / "data" / "fixtures"
ML_SNAPSHOT = FIXTURES / "repodata" / "ml-from-locks" / "conda-forge"
PY39_SNAPSHOT = FIXTURES / "repodata" / "conda-forge-py39-subset"


@pytest.fixture(autouse=True, scope="module")
def _fixtures_present() -> None:
    if not FIXTURES.is_dir():
        pytest.fail(f"{FIXTURES} is missing: the tests solve against the shared repodata snapshots")


@pytest.fixture
def lock_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project whose conda-forge is the py39 snapshot, with its own solver cache."""
    root = tmp_path / "proj"
    (root / "profiles").mkdir(parents=True)
    monkeypatch.setenv("PROVISION_MIRRORS", f"conda-forge={PY39_SNAPSHOT}")  # a machine setting
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return root


def write_profile(root: Path, name: str, body: str) -> None:
    (root / "profiles" / f"{name}.yaml").write_text(f"name: {name}\n{body}")


def conda_versions(path: Path, platform: str) -> dict[str, str]:
    return {p.name: p.version for p in read_lock(path).for_platform(platform) if p.manager == "conda"}


# --- the committed locks -------------------------------------------------------------------


def test_committed_locks_are_fresh(run_cli) -> None:
    result = run_cli("--root", str(REPO), "lock", "--all", "--check")
    assert result.code == 0, result.out + result.err
    assert "STALE" not in result.out


def test_committed_locks_hold_the_known_good_pins() -> None:
    def pins(profile: str) -> dict[str, LockedPackage]:
        return {p.name: p for p in read_lock(REPO / "envs" / profile / "conda-lock.yml").packages}

    torch = pins("torch-mps")["torch"]
    assert torch.manager == "pip" and torch.version == "2.11.0"
    assert torch.url.startswith("https://files.pythonhosted.org/") and torch.url.endswith("_arm64.whl")
    assert "macosx" in torch.url and len(torch.sha256) == 64
    tf = pins("tf-metal")
    assert tf["tensorflow-metal"].version == "1.2.0" and tf["tensorflow"].version.startswith("2.19.")
    jax = pins("jax-metal")
    assert (jax["jax"].version, jax["jaxlib"].version, jax["jax-metal"].version) == ("0.5.0", "0.5.0", "0.1.1")
    cuda = pins("torch-linux/cuda")["pytorch"]
    assert "cuda" in (cuda.build or "") and cuda.url.startswith("https://conda.anaconda.org/conda-forge/linux-64/")
    cpu_torch = pins("torch-linux/cpu")["pytorch"]
    assert (cpu_torch.build or "").startswith("cpu_") and cpu_torch.version == cuda.version
    cpu = pins("linux-cpu")
    assert not [p for p in cpu if "cuda" in p or "nvidia" in p], "a CPU profile must hold no CUDA package"


def test_locks_record_canonical_urls_and_full_hashes() -> None:
    for name in lock_units(Project(REPO)):
        path = REPO / ("conda-lock.yml" if name == "bootstrap" else f"envs/{name}/conda-lock.yml")
        lock = read_lock(path)
        assert lock.packages, name
        for package in lock.packages:
            assert package.url.startswith("https://"), package.url
            assert len(package.sha256) == 64
            if package.manager == "conda":
                assert package.md5 and len(package.md5) == 32
                assert not package.name.startswith("__"), "virtual packages are never locked"
        assert "file://" not in path.read_text(), f"{name}: a machine-specific mirror path leaked into the lock"


# --- freshness -------------------------------------------------------------------------------


def test_editing_a_profile_makes_the_check_fail_with_the_reason(project: Path, run_cli) -> None:
    for lock in REPO.glob("envs/*/conda-lock.yml"):
        shutil.copy(lock, project / "envs" / lock.parent.name / lock.name)
    shutil.copy(REPO / "conda-lock.yml", project / "conda-lock.yml")
    path = project / "profiles" / "torch-mps.yaml"
    path.write_text(
        path.read_text().replace("    - torchvision==0.26.0\n", "    - torchvision==0.26.0\n    - einops\n")
    )
    result = run_cli("--root", str(project), "lock", "--check")
    assert result.code == 1
    stale = [line for line in result.out.splitlines() if "STALE" in line]
    # the name column is as wide as the widest unit (torch-linux/cuda)
    assert stale == ["torch-mps        osx-arm64      STALE: profile changed (pypi: +einops)"]
    assert "stale locks: torch-mps [osx-arm64]" in result.err


def test_check_names_added_removed_missing_and_unreadable(project: Path, run_cli) -> None:
    for lock in [*REPO.glob("envs/*/conda-lock.yml"), *REPO.glob("envs/*/*/conda-lock.yml")]:
        shutil.copy(lock, project / lock.relative_to(REPO))
    path = project / "profiles" / "linux-cpu.yaml"
    path.write_text(
        path.read_text().replace("platforms: [linux-64, linux-aarch64]", "platforms: [linux-64, osx-arm64]")
    )
    (project / "envs" / "jax-linux" / "cuda" / "conda-lock.yml").write_text("version: [unclosed\n")
    (project / "envs" / "mlx-llm" / "conda-lock.yml").unlink()
    result = run_cli("--root", str(project), "lock", "--check", "--json")
    assert result.code == 1
    reasons = {(s["profile"], s["platform"]): s["reasons"] for s in json.loads(result.out) if not s["fresh"]}
    assert reasons[("linux-cpu", "osx-arm64")] == ["platform added to the profile"]
    assert reasons[("linux-cpu", "linux-aarch64")] == ["platform removed from the profile"]
    assert "invalid YAML" in reasons[("jax-linux/cuda", "linux-64")][0]
    assert "no lockfile" in reasons[("mlx-llm", "osx-arm64")][0]
    assert ("bootstrap", "linux-64") in reasons  # no root conda-lock.yml copied: missing


# --- the conda layer, solved offline through mirrors -----------------------------------------


def test_offline_solve_through_a_mirror_records_canonical_urls(lock_project: Path, run_cli) -> None:
    write_profile(
        lock_project,
        "py39",
        "platforms: [osx-arm64, linux-64]\npython: \"3.9\"\nchannels: [conda-forge]\nconda: ['openssl <3.2']\n",
    )
    result = run_cli("--root", str(lock_project), "lock", "py39")
    assert result.code == 0, result.err
    lock_file = lock_project / "envs" / "py39" / "conda-lock.yml"
    lock = read_lock(lock_file)
    assert lock.platforms == ["osx-arm64", "linux-64"]
    for platform in lock.platforms:
        versions = conda_versions(lock_file, platform)
        assert versions["python"].startswith("3.9.") and versions["openssl"].startswith("3.1.")
        for package in lock.for_platform(platform):
            assert package.url.startswith(
                f"https://conda.anaconda.org/conda-forge/{platform}/"
            ) or package.url.startswith("https://conda.anaconda.org/conda-forge/noarch/")
    assert "file://" not in lock_file.read_text()
    assert not any("mirror" in key for key in lock.custom), "a machine's mirror never goes into the lock"
    assert run_cli("--root", str(lock_project), "lock", "--check").code == 0


def test_previous_versions_are_kept_unless_updated(lock_project: Path, run_cli) -> None:
    base = 'platforms: [linux-64]\npython: "3.9"\nchannels: [conda-forge]\n'
    write_profile(lock_project, "keep", base + "conda: ['openssl <3.2']\n")
    assert run_cli("--root", str(lock_project), "lock", "keep").code == 0
    lock_file = lock_project / "envs" / "keep" / "conda-lock.yml"
    first = conda_versions(lock_file, "linux-64")
    write_profile(lock_project, "keep", base + "conda: [openssl]\n")  # the pin is lifted
    assert run_cli("--root", str(lock_project), "lock", "keep").code == 0
    assert conda_versions(lock_file, "linux-64")["openssl"] == first["openssl"]
    assert run_cli("--root", str(lock_project), "lock", "keep", "--update", "openssl").code == 0
    updated = conda_versions(lock_file, "linux-64")
    assert updated["openssl"] == "3.3.0"
    assert updated["python"] == first["python"], "--update openssl must not move python"


def _ml_profile(root: Path, name: str, extra: str) -> None:
    # lock_project set the variable through monkeypatch, which restores it after the test.
    os.environ["PROVISION_MIRRORS"] = f"conda-forge={ML_SNAPSHOT}"
    write_profile(
        root, name, f'platforms: [linux-64]\npython: "3.13"\nchannels: [conda-forge]\nconda: [pytorch]\n{extra}'
    )


def test_cuda_builds_only_when_the_profile_requires_a_driver(lock_project: Path, run_cli) -> None:
    # Same glibc for both (conda-forge's CUDA builds need __glibc >= 2.28): only __cuda differs.
    _ml_profile(lock_project, "cpu", 'requires:\n  glibc: "2.28"\n')
    _ml_profile(lock_project, "gpu", 'requires:\n  glibc: "2.28"\n  cuda_driver: "12.4"\n')
    assert run_cli("--root", str(lock_project), "lock", "cpu").code == 0
    assert run_cli("--root", str(lock_project), "lock", "gpu").code == 0
    cpu = {p.name: p for p in read_lock(lock_project / "envs/cpu/conda-lock.yml").packages}
    gpu = {p.name: p for p in read_lock(lock_project / "envs/gpu/conda-lock.yml").packages}
    assert (cpu["pytorch"].build or "").startswith("cpu_")
    assert not [n for n in cpu if n.startswith(("cuda", "libcu"))]
    assert (gpu["pytorch"].build or "").startswith("cuda129")
    assert "cuda-version" in gpu


def test_channel_qualified_specs_in_conda_forms_lock_through_their_mirrors(lock_project: Path, run_cli) -> None:
    """`pytorch::pytorch` solves through the pytorch channel's mirror, and conda's own spec forms (`=`
    builds, a build string with dots as the pytorch channel writes them) lock as `show` accepted them."""
    snapshot = ML_SNAPSHOT.parent
    os.environ["PROVISION_MIRRORS"] = ",".join(f"{c}={snapshot / c}" for c in ("pytorch", "nvidia", "conda-forge"))
    write_profile(lock_project, "pt", (
        'platforms: [linux-64]\npython: "3.11"\nchannels: [pytorch, nvidia, conda-forge]\n'
        "conda: ['pytorch::pytorch=2.3.1=py3.11_cuda12.1*', 'pytorch-cuda==12.*']\n"
        'requires:\n  glibc: "2.28"\n  cuda_driver: "12.4"\n'
    ))  # fmt: skip
    assert run_cli("--root", str(lock_project), "show", "pt").code == 0
    result = run_cli("--root", str(lock_project), "lock", "pt")
    assert result.code == 0, result.err
    locked = {p.name: p for p in read_lock(lock_project / "envs/pt/conda-lock.yml").packages}
    assert locked["pytorch"].build == "py3.11_cuda12.1_cudnn8.9.2_0"
    assert locked["pytorch"].url.startswith("https://conda.anaconda.org/pytorch/linux-64/")
    assert locked["pytorch-cuda"].version == "12.1"


def test_a_mirror_folder_with_only_zstd_repodata_is_read(lock_project: Path, tmp_path: Path, run_cli) -> None:
    """Channels publish `repodata.json.zst`; a mirror copied from one may hold nothing else."""
    import zstandard

    mirror = tmp_path / "zst-mirror"
    for subdir in ("linux-64", "noarch"):
        (mirror / subdir).mkdir(parents=True)
        raw = (PY39_SNAPSHOT / subdir / "repodata.json").read_bytes()
        (mirror / subdir / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    os.environ["PROVISION_MIRRORS"] = f"conda-forge={mirror}"
    write_profile(lock_project, "p", 'platforms: [linux-64]\npython: "3.9"\nchannels: [conda-forge]\n')
    result = run_cli("--root", str(lock_project), "lock", "p")
    assert result.code == 0, result.err
    python = next(p for p in read_lock(lock_project / "envs/p/conda-lock.yml").packages if p.name == "python")
    assert python.url.startswith("https://conda.anaconda.org/conda-forge/linux-64/python-3.9")


def test_an_unreachable_channel_is_named_as_a_network_failure(lock_project: Path, run_cli) -> None:
    """A DNS failure is the network's, not the pins': lock and outdated say so, with the mirror setting."""
    write_profile(lock_project, "p", 'platforms: [linux-64]\npython: "3.9"\nchannels: [conda-forge]\n')
    assert run_cli("--root", str(lock_project), "lock", "p").code == 0  # through the snapshot mirror
    os.environ["PROVISION_MIRRORS"] = "conda-forge=https://no-such-host.invalid/conda-forge"
    for command in ("lock", "outdated"):
        result = run_cli("--root", str(lock_project), command, "p", *(["--update-all"] if command == "lock" else []))
        assert result.code == 5, result.err
        line = result.err.strip().splitlines()[-1]
        assert "cannot reach no-such-host.invalid (network: DNS failure)" in line
        assert "--mirror conda-forge=" in line and "Relax" not in line and "internal error" not in line


def test_a_gpu_profile_that_would_lock_a_cpu_build_fails_with_the_reason(lock_project: Path, run_cli) -> None:
    """conda-forge's CUDA builds of PyTorch need __glibc >= 2.28: a GPU profile that says 2.17 got the CPU
    build with exit 0 before; now the lock fails naming the package, its CPU build and the unmet need."""
    _ml_profile(lock_project, "gpu", 'requires:\n  cuda_driver: "12.4"\n  glibc: "2.17"\n')
    result = run_cli("--root", str(lock_project), "lock", "gpu")
    assert result.code == 5, result.err
    line = result.err.strip().splitlines()[-1]
    assert "requires.cuda_driver 12.4 asks for GPU builds, but pytorch 2.8.0-cpu_" in line
    assert "(conda) is a CPU build: its CUDA builds need __glibc >=2.28" in line
    assert not (lock_project / "envs/gpu/conda-lock.yml").exists()


def test_the_default_glibc_lets_a_gpu_profile_take_the_cuda_build(lock_project: Path, run_cli) -> None:
    """No glibc named: the default is conda-lock's and pixi's (2.28), not 2.17."""
    _ml_profile(lock_project, "gpu", 'requires:\n  cuda_driver: "12.4"\n')
    assert run_cli("--root", str(lock_project), "lock", "gpu").code == 0
    pytorch = next(p for p in read_lock(lock_project / "envs/gpu/conda-lock.yml").packages if p.name == "pytorch")
    assert (pytorch.build or "").startswith("cuda129")


def test_a_changed_system_requirement_re_solves_instead_of_keeping_the_old_build(lock_project: Path, run_cli) -> None:
    _ml_profile(lock_project, "p", 'requires:\n  glibc: "2.17"\n')
    assert run_cli("--root", str(lock_project), "lock", "p").code == 0
    before = next(p for p in read_lock(lock_project / "envs/p/conda-lock.yml").packages if p.name == "pytorch")
    assert (before.build or "").startswith("cpu_")
    _ml_profile(lock_project, "p", 'requires:\n  glibc: "2.28"\n  cuda_driver: "12.4"\n')
    check = run_cli("--root", str(lock_project), "lock", "--check", "p")
    assert check.code == 1 and "virtual_packages" in check.out + check.err
    assert run_cli("--root", str(lock_project), "lock", "p").code == 0  # plain lock: no --update-all
    after = next(p for p in read_lock(lock_project / "envs/p/conda-lock.yml").packages if p.name == "pytorch")
    assert (after.build or "").startswith("cuda129")


def test_the_repositorys_gpu_locks_hold_gpu_builds() -> None:
    """What CI checks for every committed lock of a profile that asks for a GPU."""
    from provision.lock.variant import cpu_builds

    project = Project(REPO)
    gpu = [p for p in lock_units(project).values() if p.requires.cuda_driver]
    assert {p.lock_name for p in gpu} >= {"torch-linux/cuda", "jax-linux/cuda"}
    for profile in gpu:
        lock = read_lock(REPO / "envs" / profile.lock_name / "conda-lock.yml")
        for platform in lock.platforms:
            assert cpu_builds(profile, platform, lock.for_platform(platform)) == [], (profile.name, platform)


def test_unsolvable_request_is_explained_in_profile_terms(lock_project: Path, run_cli) -> None:
    write_profile(
        lock_project, "bad", "platforms: [linux-64]\npython: \"3.9\"\nchannels: [conda-forge]\nconda: ['openssl >=9']\n"
    )
    result = run_cli("--root", str(lock_project), "lock", "bad")
    assert result.code == 5
    line = result.err.strip().splitlines()[-1]  # the lines before it are progress
    assert line.startswith("error: profiles/bad.yaml: the conda layer cannot be solved for linux-64")
    assert "openssl" in line
    assert not (lock_project / "envs" / "bad" / "conda-lock.yml").exists()


def test_a_failed_relock_leaves_the_old_lock_intact(lock_project: Path, run_cli) -> None:
    base = 'platforms: [linux-64]\npython: "3.9"\nchannels: [conda-forge]\n'
    write_profile(lock_project, "p", base)
    assert run_cli("--root", str(lock_project), "lock", "p").code == 0
    before = (lock_project / "envs/p/conda-lock.yml").read_text()
    write_profile(lock_project, "p", base + "conda: ['openssl >=9']\n")
    assert run_cli("--root", str(lock_project), "lock", "p").code == 5
    assert (lock_project / "envs/p/conda-lock.yml").read_text() == before
    assert sorted(x.name for x in (lock_project / "envs/p").iterdir()) == ["conda-lock.yml"]


def test_bad_mirror_option_is_one_clear_line(lock_project: Path, run_cli) -> None:
    write_profile(lock_project, "p", 'platforms: [linux-64]\npython: "3.9"\nchannels: [conda-forge]\n')
    result = run_cli("--root", str(lock_project), "lock", "p", "--mirror", "conda-forge")
    assert result.code == 1 and "CHANNEL=URL" in result.err
    result = run_cli("--root", str(lock_project), "lock", "p", "--mirror", "conda-forge=/no/such/folder")
    assert result.code == 1 and "is not a folder" in result.err


# --- the PyPI layer, resolved for real ---------------------------------------------------------


@pytest.mark.network
def test_uv_resolves_macos_arm64_wheels_constrained_by_the_conda_layer(tmp_path: Path) -> None:
    profile = make_profile(pypi={"packages": ["pandas==2.2.3"]}, requires={"macos": "14.0"})
    numpy = LockedPackage(
        "numpy",
        "2.0.0",
        "conda",
        "osx-arm64",
        "https://x/numpy.conda",
        "0" * 64,
        dependencies={"python": ">=3.11", "python_abi": "3.11.*"},
    )
    provided = conda_python_packages([numpy])
    assert provided == {"numpy": "2.0.0"}
    locked = {p.name: p for p in resolve_pypi(profile, "osx-arm64", "3.11.9", provided, tmp_path)}
    assert "numpy" not in locked, "a conda-provided package is not locked twice"
    pandas = locked["pandas"]
    assert pandas.version == "2.2.3" and pandas.manager == "pip"
    assert pandas.url.endswith(".whl") and "cp311" in pandas.url and "macosx" in pandas.url and "arm64" in pandas.url
    assert len(pandas.sha256) == 64


@pytest.mark.network
def test_uv_failure_names_the_profile(tmp_path: Path) -> None:
    from provision.errors import ToolFailed

    profile = make_profile(kind="venv", platforms=["linux-64"], channels=[], pypi={"packages": ["numpy==0.0.1"]})
    with pytest.raises(ToolFailed, match=r"profiles/t.yaml: pypi.packages cannot be resolved for linux-64"):
        resolve_pypi(profile, "linux-64", "3.11", {}, tmp_path)


# --- interoperability ----------------------------------------------------------------------------


def _all_locks() -> list[Path]:
    return [REPO / "conda-lock.yml", *sorted(REPO.glob("envs/**/conda-lock.yml"))]  # variants: envs/NAME/VARIANT/


def test_our_locks_load_with_conda_locks_parser() -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    for path in _all_locks():
        parsed = parse_conda_lock_file(path)
        ours = read_lock(path)
        assert sorted(parsed.metadata.platforms) == sorted(ours.platforms)
        assert len(parsed.package) == len(ours.packages)


def test_our_locks_load_with_py_rattler() -> None:
    """pixi's lock library reads every lock we write (it refused a pip dependency written as '*')."""
    from rattler import LockFile

    for path in _all_locks():
        parsed = LockFile.from_path(path)
        ours = read_lock(path)
        environment = parsed.default_environment()
        assert environment is not None, path
        assert sorted(str(p) for p in environment.platforms()) == sorted(ours.platforms)
        for platform in environment.platforms():
            assert len(environment.packages(platform) or []) == len(ours.for_platform(str(platform))), path


def test_rewriting_a_lock_unchanged_is_byte_identical(tmp_path: Path) -> None:
    """What we read back and write again is the same file: a re-lock of an unchanged profile changes nothing."""
    from provision.lock.lockfile import write_lock

    for path in _all_locks():
        text = path.read_text()
        ours = text.split("# This lock file was generated by conda-lock", 1)[0].rstrip("\n")
        assert ours.startswith("# Generated by `provision lock`"), path
        out = tmp_path / path.parent.name / path.name
        data = read_lock(path)
        data.custom.pop("provision.version", None)
        search_path = list(sys.path)
        write_lock(out, data, ours)
        assert out.read_text() == text, f"{path} changes when written again"
        assert sys.path == search_path  # conda-lock's vendored folder never shadows provision's own imports


def test_conda_lock_render_explicit_works_on_every_platform(tmp_path: Path) -> None:
    conda_lock = Path(sys.executable).parent / "conda-lock"
    for path in _all_locks():
        lock = read_lock(path)
        out = tmp_path / ("-".join(path.relative_to(REPO).parent.parts) or "bootstrap")
        out.mkdir()
        platforms = [arg for platform in lock.platforms for arg in ("-p", platform)]  # one process per lock
        subprocess.run([str(conda_lock), "render", "-k", "explicit", *platforms, str(path)], cwd=out, check=True,
                       capture_output=True, text=True)  # fmt: skip
        for platform in lock.platforms:
            text = (out / f"conda-{platform}.lock").read_text()
            assert "@EXPLICIT" in text
            for package in lock.for_platform(platform):
                if package.manager == "conda":
                    assert f"{package.url}#{package.md5}" in text
                else:
                    assert f"# pip {package.name} @ {package.url}#sha256={package.sha256}" in text


def test_our_locks_satisfy_micromambas_reader_rules() -> None:
    """What mamba's env_lockfile.cpp requires: the file name, version 1, non-empty metadata,
    used_env_vars on channels, and a hash on every package (no micromamba binary is reachable here)."""
    for path in _all_locks():
        assert path.name.endswith("-lock.yml")
        document = yaml.safe_load(path.read_text())
        assert document["version"] == 1
        meta = document["metadata"]
        assert meta["platforms"] and meta["sources"] and meta["content_hash"]
        assert all("used_env_vars" in c for c in meta["channels"])
        assert all(p["hash"].get("md5") or p["hash"].get("sha256") for p in document["package"])


@pytest.mark.parametrize(
    ("folder", "platforms", "min_packages"),
    [
        ("clay-model", {"linux-64", "osx-64", "osx-arm64"}, 1000),
        ("pangeo-base-notebook", {"linux-64", "osx-arm64", "linux-aarch64"}, 1000),
        ("conda-lock-tests/multiple-categories", {"linux-64"}, 3),
        ("conda-lock-tests/early-v1-sorted-keys", None, 1),
    ],
)
def test_we_read_locks_written_by_conda_lock(folder: str, platforms: set[str] | None, min_packages: int) -> None:
    path = FIXTURES / "conda-lock" / folder / "conda-lock.yml"
    lock = read_lock(path)
    if platforms:
        assert platforms <= set(lock.platforms)
    assert len(lock.packages) >= min_packages
    for package in lock.packages:
        assert package.platform in lock.platforms
        assert package.url and (package.sha256 or package.md5)
    names = {(p.platform, p.manager, p.name) for p in lock.packages}
    assert len(names) == len(lock.packages), "one entry per package even when categories repeat it"


def test_mirror_url_rewrite_is_exact() -> None:
    mirrors = Mirrors({"conda-forge": "file:///srv/mirror/cf"})
    assert (
        mirrors.canonical_url("file:///srv/mirror/cf/noarch/x-1-0.conda", "conda-forge")
        == "https://conda.anaconda.org/conda-forge/noarch/x-1-0.conda"
    )
    assert (
        mirrors.canonical_url("file:///srv/mirror/cf2/noarch/x.conda", "conda-forge")
        == "file:///srv/mirror/cf2/noarch/x.conda"
    )


def test_lock_refuses_an_abstract_profile(run_cli) -> None:
    result = run_cli("--root", str(REPO), "lock", "base")
    assert result.code == 2 and "abstract" in result.err


@pytest.mark.network
def test_pypi_versions_are_kept_on_relock_unless_updated(lock_project: Path, run_cli) -> None:
    body = 'kind: venv\nplatforms: [linux-64]\npython: "3.11"\npypi:\n  packages: ["six{pin}"]\n'
    write_profile(lock_project, "pp", body.format(pin="==1.15.0"))
    assert run_cli("--root", str(lock_project), "lock", "pp").code == 0
    write_profile(lock_project, "pp", body.format(pin=">=1.15"))  # the pin is lifted
    assert run_cli("--root", str(lock_project), "lock", "pp").code == 0
    six = {p.name: p for p in read_lock(lock_project / "envs/pp/conda-lock.yml").packages}["six"]
    assert six.version == "1.15.0"
    assert run_cli("--root", str(lock_project), "lock", "pp", "--update", "six").code == 0
    six = {p.name: p for p in read_lock(lock_project / "envs/pp/conda-lock.yml").packages}["six"]
    assert six.version != "1.15.0"
