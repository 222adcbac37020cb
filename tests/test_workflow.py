"""Everyday workflow parity with pixi and uv: per-platform dependencies, a package from its own
index only, the team's own code in editable mode, all locked and applied for real."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from . import builders
from .inprocess import provision
from .world import PROVISION

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


class VenvWorld:
    """A venv-kind project whose wheels come from local folders: find-links and a file:// simple index."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        for name, version in (("provtest-hello", "1.0"), ("provtest-hello", "2.0"), ("provtest-extra", "1.0")):
            builders.wheel(tmp / "wheels", name, version, f"VERSION = {version!r}\n")
        self.special = tmp / "special"  # a PEP 503 simple index, like download.pytorch.org/whl/cu128
        for name, version in (("provtest-hello", "9.0"), ("provtest-extra", "5.0")):
            folder = self.special / name
            built = builders.wheel(folder, name, version, f"VERSION = {version!r}\n")
            digest = hashlib.sha256(built.read_bytes()).hexdigest()
            (folder / "index.html").write_text(f'<a href="{built.name}#sha256={digest}">{built.name}</a>\n')
        (tmp / "empty-index").mkdir()
        self.root = tmp / "proj"
        (self.root / "profiles").mkdir(parents=True)
        self.env = builders.quiet_env(tmp)

    def profile(self, body: str) -> None:
        (self.root / "profiles" / "w.yaml").write_text(
            f'name: w\nkind: venv\nplatforms: [linux-64, linux-aarch64]\npython: "{PYTHON}"\n'
            f'pypi:\n  index_url: "{builders.file_uri(self.tmp / "empty-index")}"\n'
            f'  find_links: ["{self.tmp / "wheels"}"]\n{body}'
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return provision(["--root", str(self.root), *args], self.env)

    def locked(self, platform: str) -> dict[str, str]:
        from provision.lock.lockfile import read_lock

        lock = read_lock(self.root / "envs" / "w" / "conda-lock.yml")
        return {p.name: p.url for p in lock.for_platform(platform)}


@pytest.fixture
def world(tmp_path: Path) -> VenvWorld:
    return VenvWorld(tmp_path)


def test_a_package_under_two_markers_is_locked_where_each_marker_holds(world: VenvWorld) -> None:
    """`init --from` carries a package listed under two markers as two entries (vllm's numba): the lock
    takes each where its marker holds, as pip and uv read the two lines."""
    world.profile("  packages: ['provtest-hello==1.0; platform_machine == \"x86_64\"',"
                  " 'provtest-hello==2.0; platform_machine == \"aarch64\"', provtest-extra]\n")  # fmt: skip
    assert world.run("lock", "w").returncode == 0
    assert world.locked("linux-64")["provtest-hello"].endswith("provtest_hello-1.0-py3-none-any.whl")
    assert world.locked("linux-aarch64")["provtest-hello"].endswith("provtest_hello-2.0-py3-none-any.whl")


def test_per_platform_dependencies_are_rendered_locked_and_checked_per_platform(world: VenvWorld) -> None:
    world.profile("  packages: [provtest-hello==1.0]\ntargets:\n  linux-64:\n    pypi: [provtest-extra==1.0]\n")
    assert world.run("lock", "w").returncode == 0
    assert set(world.locked("linux-64")) == {"provtest-hello", "provtest-extra"}
    assert set(world.locked("linux-aarch64")) == {"provtest-hello"}
    # conda and conda-lock read the same meaning from the environment.yml: a platform selector.
    from conda_lock.src_parser.environment_yaml import parse_environment_file

    assert world.run("render").returncode == 0
    environment = world.root / "envs" / "w" / "environment.yml"
    assert "provtest-extra==1.0  # [linux64]" in environment.read_text()
    (world.tmp / "mapping.json").write_text("{}")  # conda-lock would fetch its PyPI-to-conda map from GitHub
    parsed = parse_environment_file(environment, ["linux-64", "linux-aarch64"], str(world.tmp / "mapping.json"))
    pip = {p: sorted(d.name for d in parsed.dependencies[p] if d.manager == "pip") for p in parsed.dependencies}
    assert pip == {"linux-64": ["provtest-extra", "provtest-hello"], "linux-aarch64": ["provtest-hello"]}
    # A change to one platform's target makes only that platform's lock stale.
    world.profile("  packages: [provtest-hello==1.0]\ntargets:\n  linux-64:\n    pypi: [provtest-hello==2.0]\n")
    checked = world.run("lock", "w", "--check", "--json")
    assert checked.returncode == 1
    stale = {s["platform"] for s in json.loads(checked.stdout) if not s["fresh"]}
    assert stale == {"linux-64"}
    assert world.run("lock", "w").returncode == 0  # a target's spec replaces the common one by name
    assert world.locked("linux-64")["provtest-hello"].endswith("provtest_hello-2.0-py3-none-any.whl")
    assert world.locked("linux-aarch64")["provtest-hello"].endswith("provtest_hello-1.0-py3-none-any.whl")


def test_a_target_for_a_platform_the_profile_lacks_is_one_line(world: VenvWorld) -> None:
    world.profile("  packages: [provtest-hello==1.0]\ntargets:\n  osx-arm64:\n    pypi: [provtest-extra]\n")
    done = world.run("lock", "w")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "targets.osx-arm64: osx-arm64 is not in platforms" in done.stderr


def test_a_package_from_its_own_index_only(world: VenvWorld) -> None:
    special = builders.file_uri(world.special)
    world.profile(f"  packages: [provtest-hello, provtest-extra]\n  indexes:\n    special: \"{special}\"\n"
                  "  sources:\n    provtest-hello: special\n")  # fmt: skip
    done = world.run("lock", "w")
    assert done.returncode == 0, done.stderr
    urls = world.locked("linux-64")
    # hello only from the special index (its 9.0), extra never from it (its 5.0 is ignored).
    assert urls["provtest-hello"] == f"{special}/provtest-hello/provtest_hello-9.0-py3-none-any.whl"
    assert urls["provtest-extra"].endswith("wheels/provtest_extra-1.0-py3-none-any.whl")
    assert world.run("apply", "w", "--prefix", str(world.tmp / "env"), "--no-verify").returncode == 0
    code = "import provtest_hello; print(provtest_hello.VERSION)"
    hello = subprocess.run([str(world.tmp / "env/bin/python"), "-c", code], capture_output=True, text=True)
    assert hello.stdout.strip() == "9.0"
    world.profile(f"  packages: [provtest-hello]\n  indexes:\n    special: \"{special}\"\n"
                  "  sources:\n    provtest-hello: nowhere\n")  # fmt: skip
    wrong = world.run("lock", "w")
    assert wrong.returncode == 1 and "pypi.sources.provtest-hello: no index named 'nowhere'" in wrong.stderr


@pytest.mark.network  # uv builds the editable project with its backend (hatchling) from PyPI
def test_the_teams_own_code_is_installed_editable_and_never_taken_for_an_extra(world: VenvWorld) -> None:
    project = world.root / "mylib"
    (project / "src" / "mylib").mkdir(parents=True)
    (project / "src" / "mylib" / "__init__.py").write_text("ANSWER = 1\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "MyLib"\nversion = "0.1"\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n'
    )
    world.profile("  packages: [provtest-hello==1.0]\n  editable: [mylib]\n")
    world.env["UV_INDEX_URL"] = "https://pypi.org/simple"  # where the build backend comes from
    assert world.run("lock", "w").returncode == 0
    prefix = world.tmp / "env"
    done = world.run("apply", "w", "--prefix", str(prefix), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert "editable project(s): mylib" in done.stderr

    def answer() -> str:
        return subprocess.run([str(prefix / "bin/python"), "-c", "import mylib; print(mylib.ANSWER)"],
                              capture_output=True, text=True).stdout.strip()  # fmt: skip

    assert answer() == "1"
    (project / "src" / "mylib" / "__init__.py").write_text("ANSWER = 2\n")
    assert answer() == "2"  # editable: the working tree, not a copy
    assert world.run("status", "w", "--prefix", str(prefix)).returncode == 0  # not an extra
    subprocess.run([sys.executable, "-m", "uv", "pip", "uninstall", "--python", str(prefix / "bin/python"), "mylib"],
                   capture_output=True)  # fmt: skip
    status = world.run("status", "w", "--prefix", str(prefix))
    assert status.returncode == 1 and "mylib (editable) missing (pypi)" in status.stdout
    assert world.run("apply", "w", "--prefix", str(prefix), "--no-verify").returncode == 0
    assert answer() == "2"


def test_an_editable_entry_that_is_not_a_folder_is_refused() -> None:
    from pydantic import ValidationError

    from provision.profile.model import Profile

    for bad in ("--index-url=http://evil", "git+https://x/y", "https://x/y.whl"):
        with pytest.raises(ValidationError, match="not a local project folder"):
            Profile.model_validate({"name": "t", "pypi": {"editable": [bad]}})


ENVIRONMENTS = Path(__file__).parent / "data" / "fixtures" / "environment-yml"
REAL_FILES = ["ControlNet.yaml", "stylegan3.yml", "eg3d.yml", "taming-transformers.yaml", "nlp-research-template.yml"]


def _names_in(path: Path) -> tuple[set[str], set[str]]:
    """The test's own reading of an environment file: conda and pip package names (python, win-only and
    editable lines aside)."""
    import re

    import yaml

    document = yaml.safe_load(path.read_text())
    conda, pip = set(), set()
    win_only = {re.sub(r"\s*#.*", "", line).strip(" -") for line in path.read_text().splitlines() if "# [win]" in line}
    both = {re.sub(r"\s*#.*", "", line).strip(" -") for line in path.read_text().splitlines() if "# [linux]" in line}
    for entry in document["dependencies"]:
        if isinstance(entry, dict):
            pip |= {
                re.split(r"[<>=!~ ]", p)[0].lower().replace("_", "-") for p in entry["pip"] if not p.startswith("-")
            }
        elif not entry.startswith("python") and (entry not in win_only or entry in both):
            conda.add(re.split(r"[<>=!~ ]", entry.split("::")[-1])[0].lower())
    return conda, pip


@pytest.mark.parametrize("file", REAL_FILES)
def test_init_from_a_real_environment_file_keeps_every_package(tmp_path: Path, file: str, run_cli) -> None:
    from provision.profile.load import load_profile
    from provision.profile.merge import conda_name, pypi_name
    from provision.project import Project

    source = ENVIRONMENTS / file
    done = run_cli("--root", str(tmp_path), "init", "imported", "--from", str(source))
    assert done.code == 0, done.err
    assert all(line.startswith("note: ") for line in done.err.splitlines())
    profile = load_profile(Project(tmp_path), "imported")
    conda = {conda_name(s) for p in profile.platforms for s in profile.conda_for(p)}
    pip = {pypi_name(s) for p in profile.platforms for s in profile.pypi_for(p)}
    wanted_conda, wanted_pip = _names_in(source)
    assert {n.split("::")[-1] for n in conda} == wanted_conda
    assert pip == wanted_pip
    assert profile.python and profile.python.startswith("3.")
    assert profile.pypi.editable == (["."] if "-e ." in source.read_text() else [])  # the project itself


def test_init_says_what_a_profile_cannot_hold_and_keeps_the_rest(tmp_path: Path, run_cli) -> None:
    from provision.profile.load import load_profile
    from provision.project import Project

    done = run_cli("--root", str(tmp_path), "init", "dino", "--from", str(ENVIRONMENTS / "dinov2.yaml"))
    assert done.code == 0
    submitit = "'git+https://github.com/facebookincubator/submitit' left out: a direct URL or VCS requirement"
    assert submitit in done.err
    profile = load_profile(Project(tmp_path), "dino")
    assert profile.pypi.packages == ["cuml-cu11"] and profile.pypi.extra_index_urls == ["https://pypi.nvidia.com"]
    assert "xformers::xformers=0.0.18" in profile.conda and "xformers" in profile.channels
    selectors = run_cli(
        "--root", str(tmp_path), "init", "nlp", "--from", str(ENVIRONMENTS / "nlp-research-template.yml")
    )
    assert selectors.err.count("[win]") == 1 and "platform win-64 left out" in selectors.err
    nlp = load_profile(Project(tmp_path), "nlp")
    assert nlp.platforms == ["linux-64", "osx-arm64"]
    assert nlp.conda_for("linux-64").count("pytorch-nightly::pytorch-cuda=11.8") == 1
    assert "pytorch-nightly::pytorch-cuda=11.8" not in nlp.conda_for("osx-arm64")
    again = run_cli("--root", str(tmp_path), "init", "nlp", "--from", str(ENVIRONMENTS / "dinov2.yaml"))
    assert again.code == 1 and "already exists" in again.err


@pytest.mark.parametrize(("name", "text", "said"), [
    ("requirements.txt", "torch==2.5.1 # pinned\n--extra-index-url https://download.pytorch.org/whl/cpu\n-e ./src\n",
     ""),
    ("pixi.toml", '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["osx-arm64", "win-64"]\n[dependencies]\n'
     'numpy = ">=2"\npytorch = { version = "2.5.*", build = "*cuda*" }\n[pypi-dependencies]\nrich = "*"\n'
     '[target.osx-arm64.dependencies]\nmlx = "*"\n', "platform win-64 left out"),
    ("pyproject.toml", '[project]\nname = "app"\nrequires-python = ">=3.12"\ndependencies = ["httpx>=0.27"]\n', ""),
    ("environment.yml", "dependencies: [numpy, {pip: [rich]}]\nchannels: [conda-forge]\n", ""),
])  # fmt: skip
def test_init_reads_requirements_pixi_and_pyproject(tmp_path: Path, run_cli, name: str, text: str, said: str) -> None:
    from provision.profile.load import load_profile
    from provision.project import Project

    (tmp_path / name).write_text(text)
    done = run_cli("--root", str(tmp_path / "p"), "init", "x", "--from", str(tmp_path / name))
    assert done.code == 0, done.err
    assert said in done.err
    profile = load_profile(Project(tmp_path / "p"), "x")
    if name == "requirements.txt":
        assert profile.kind == "venv" and profile.pypi.packages == ["torch==2.5.1"]
        assert profile.pypi.extra_index_urls == ["https://download.pytorch.org/whl/cpu"]
        assert profile.pypi.editable == ["./src"]
    elif name == "pixi.toml":
        assert profile.conda == ["numpy >=2", "pytorch 2.5.* *cuda*"] and profile.pypi.packages == ["rich"]
        assert profile.conda_for("osx-arm64")[-1] == "mlx" and profile.platforms == ["osx-arm64"]
    elif name == "pyproject.toml":
        assert profile.python == "3.12" and profile.pypi.packages == ["httpx>=0.27"] and profile.pypi.editable == ["."]
    else:
        assert profile.conda == ["numpy"] and profile.pypi.packages == ["rich"]


@pytest.mark.parametrize(("name", "text"), [
    ("environment.yml", "x: &a [1]\ny: *a\n"),
    ("environment.yml", "dependencies: {not: a list}\n"),
    ("environment.yml", "\x00\x01"),
    ("environment.yml", "channels: {a: 1}\ndependencies: [numpy]\n"),
    ("environment.yml", "dependencies: [numpy, {pip: rich}]\n"),
    ("environment.yml", "dependencies: [[numpy]]\n"),
    ("pixi.toml", '[target]\nlinux-64 = "x"\n'),
    ("pixi.toml", "[dependencies]\nnumpy = 5\n"),
    ("pixi.toml", '[workspace]\nchannels = "conda-forge"\n'),
    ("pixi.toml", "[dependencies]\nnumpy = {version = {a = 1}}\n"),
    ("pyproject.toml", '[project]\ndependencies = "numpy"\n'),
    ("pyproject.toml", "[project]\nrequires-python = 3\n"),
    ("pyproject.toml", "[project\n"),
])  # fmt: skip
def test_init_from_a_hostile_file_is_one_line(tmp_path: Path, run_cli, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    done = run_cli("--root", str(tmp_path / "p"), "init", "x", "--from", str(tmp_path / name))
    assert done.code == 1 and done.err.count("\n") == 1 and f"{tmp_path / name}:" in done.err, done.err
    assert not (tmp_path / "p").exists()  # nothing made for a file that cannot be read


def test_add_and_remove_keep_comments_and_relock(world: VenvWorld) -> None:
    world.profile("  packages:\n    - provtest-hello==1.0  # the greeting\n")
    profile_file = world.root / "profiles" / "w.yaml"
    assert world.run("lock", "w").returncode == 0
    added = world.run("add", "w", "--pypi", "provtest-extra==1.0")
    assert added.returncode == 0, added.stderr
    assert "# the greeting" in profile_file.read_text() and "provtest-extra==1.0" in profile_file.read_text()
    assert "provtest-extra" in world.locked("linux-64")
    only = world.run("add", "w", "--pypi", "--platform", "linux-aarch64", "provtest-hello==2.0", "--no-lock")
    assert only.returncode == 0 and "linux-aarch64:" in profile_file.read_text()
    before = profile_file.read_text()
    bad = world.run("add", "w", "--pypi", "not a requirement!")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert profile_file.read_text() == before  # an invalid edit leaves the profile as it was
    removed = world.run("remove-package", "w", "provtest-extra")
    assert removed.returncode == 0, removed.stderr
    assert "provtest-extra" not in profile_file.read_text() and "# the greeting" in profile_file.read_text()
    assert "provtest-extra" not in world.locked("linux-64")
    missing = world.run("remove-package", "w", "nothere")
    assert missing.returncode == 1 and "no package 'nothere'" in missing.stderr
    before = profile_file.read_text()
    rendered = (world.root / "envs" / "w" / "environment.yml").read_text()
    unsolvable = world.run("add", "w", "--pypi", "provtest-hello==9.9")  # valid, but no such version to lock
    assert unsolvable.returncode != 0
    assert "restored profiles/w.yaml: the change could not be locked" in unsolvable.stderr
    assert profile_file.read_text() == before and (world.root / "envs/w/environment.yml").read_text() == rendered
    twice = world.run("add", "w", "--pypi", "provtest-extra==1.0", "Provtest_Extra>=1")
    assert twice.returncode == 2 and "provtest-extra is named twice (provtest-extra==1.0, Provtest_Extra>=1)" \
        in twice.stderr and profile_file.read_text() == before  # fmt: skip


def test_tree_and_outdated_on_a_real_lock(tmp_path: Path) -> None:
    from .world import E2E

    e2e = E2E(tmp_path)
    assert e2e.run("lock", "e2e").returncode == 0
    tree = e2e.run("tree", "e2e")
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    tool = next(i for i, line in enumerate(lines) if line.startswith("provtest-tool 1.0 (conda)"))
    assert lines[tool + 1] == "  provtest-base 1.0 (conda)"  # the channel's own dependency edge
    why = e2e.run("tree", "e2e", "--invert", "provtest-base")
    assert why.stdout.splitlines()[:2] == ["provtest-base 1.0 (conda)", "  provtest-tool 1.0 (conda) [requested]"]
    assert e2e.run("tree", "e2e", "--invert", "nothing").returncode == 1
    found = e2e.run("outdated", "e2e", "--json")
    assert found.returncode == 0, found.stderr
    rows = {r["name"]: r for r in json.loads(found.stdout)}
    assert (rows["provtest-tool"]["locked"], rows["provtest-tool"]["allowed"], rows["provtest-tool"]["newest"]) == (
        "1.0", "1.0", "2.0")  # fmt: skip
    assert rows["provtest-tool"]["held_back"] and rows["provtest-hello"]["newest"] == "2.0"
    assert "provtest-base" not in rows  # already the newest there is


def test_cli_conventions_quiet_verbose_completion(tmp_path: Path) -> None:
    from .world import E2E

    e2e = E2E(tmp_path)
    loud = e2e.run("lock", "e2e")
    lock = e2e.root / "envs" / "e2e" / "conda-lock.yml"
    written = lock.read_bytes()
    # Nothing changed: nothing is solved, and the lock is left as it is; --update-all solves again.
    again = e2e.run("lock", "e2e")
    assert again.stdout == "e2e: fresh, nothing to solve (--update-all solves it again)\n" and again.stderr == ""
    assert lock.read_bytes() == written
    quiet = e2e.run("-q", "lock", "e2e", "--update-all")
    assert "solving the conda layer" in loud.stderr and quiet.returncode == 0 and quiet.stderr == ""
    after = e2e.run("lock", "e2e", "--quiet", "--update-all")  # after the command too, as uv takes it
    assert after.returncode == 0 and after.stderr == ""
    verbose = e2e.run("-v", "lock", "e2e", "--update-all", process=True)  # logging is set up once per process
    assert "provision: running: " in verbose.stderr and " pip compile " in verbose.stderr  # each external command
    nothing = e2e.run("shell", "e2e", "--json")  # no environment yet: nothing to activate, and it says so
    assert nothing.returncode == 1 and "run `provision apply e2e` first" in nothing.stderr
    assert e2e.run("apply", "e2e", "--no-verify").returncode == 0
    shown = json.loads(e2e.run("shell", "e2e", "--json").stdout)
    assert shown["env"] == {"PROVTEST": "yes"} and shown["path_prepend"] == str(e2e.prefix / "bin")
    for shell in ("bash", "zsh", "fish"):
        script = e2e.run("completion", shell)
        assert script.returncode == 0 and "_PROVISION_COMPLETE" in script.stdout
    # The bash script's own protocol, answered by the installed entry point.
    asking = {**e2e.env, "_PROVISION_COMPLETE": "bash_complete", "COMP_WORDS": "provision remove-p", "COMP_CWORD": "1"}
    words = subprocess.run([PROVISION], env=asking, capture_output=True, text=True)
    assert words.stdout.strip() == "plain,remove-package"


def test_lock_all_keeps_going_past_one_failure_and_reports_it(world: VenvWorld) -> None:
    world.profile("  packages: [provtest-hello==1.0]\n")
    (world.root / "profiles" / "broken.yaml").write_text(
        (world.root / "profiles" / "w.yaml").read_text().replace("name: w", "name: broken")
        .replace("provtest-hello==1.0", "provtest-hello==7.0")  # no such version anywhere
    )  # fmt: skip
    done = world.run("lock", "--all", "--jobs", "2")
    assert done.returncode == 5
    assert "profiles/broken.yaml: pypi.packages cannot be resolved" in done.stderr
    assert "1 of 2 profiles could not be locked (broken); their old locks are unchanged" in done.stderr
    assert "wrote envs/w/conda-lock.yml" in done.stdout and not (world.root / "envs" / "broken").exists()
    serial = json.loads(world.run("lock", "--all", "--jobs", "1", "--json").stdout)
    assert (serial["written"], serial["fresh"], list(serial["failed"])) == ([], ["w"], ["broken"])  # w: solved once


def test_init_notes_never_send_control_characters_to_the_terminal(tmp_path: Path, run_cli) -> None:
    (tmp_path / "environment.yml").write_text('dependencies:\n  - numpy\n  - pip:\n    - "git+https://x\\e[2J"\n')
    done = run_cli("--root", str(tmp_path / "p"), "init", "x", "--from", str(tmp_path / "environment.yml"))
    assert done.code == 0 and "\x1b" not in done.err and "\\x1b[2J" in done.err


def test_a_conda_target_replaces_the_common_spec_on_its_platform(tmp_path: Path) -> None:
    from provision.lock.lockfile import read_lock

    from .world import E2E

    e2e = E2E(tmp_path)
    profile = e2e.root / "profiles" / "e2e.yaml"
    profile.write_text(profile.read_text() + 'targets:\n  linux-64:\n    conda: ["provtest-tool 2.*"]\n')
    assert e2e.run("lock", "e2e").returncode == 0
    lock = read_lock(e2e.root / "envs" / "e2e" / "conda-lock.yml")
    assert {p.name: p.version for p in lock.for_platform("linux-64")}["provtest-tool"] == "2.0"
    assert e2e.run("apply", "e2e").returncode == 0 and e2e.tool() == "tool 2\n"


@pytest.mark.parametrize("entry", ["../outside", "/tmp", "link-to-outside"])
def test_an_editable_folder_outside_the_project_is_refused(world: VenvWorld, entry: str) -> None:
    outside = world.tmp / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text('[project]\nname = "theirs"\nversion = "1"\n')
    (world.root / "link-to-outside").symlink_to(outside)
    world.profile(f"  packages: [provtest-hello==1.0]\n  editable: [{json.dumps(entry)}]\n")
    assert world.run("lock", "w").returncode == 0
    prefix = world.tmp / "env"
    done = world.run("apply", "w", "--prefix", str(prefix), "--no-verify")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"pypi.editable[0]: '{entry}' is outside the project" in done.stderr
    assert not prefix.exists() and sorted(p.name for p in outside.iterdir()) == ["pyproject.toml"]
