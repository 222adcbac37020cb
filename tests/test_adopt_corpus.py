"""The real-world corpus (tests/data/fixtures/adopt/, each file with its provenance): every file is
imported as a user would, and what provision made of it is compared with the source read here
independently (plain YAML / TOML / line reading, not provision's readers). Every declared package
must be in the profile or named by a note: no silent drops. Locks: the planned package set per
platform and category equals what the file declares. No test here needs the network."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from provision.lock.lockfile import read_lock

from .conftest import DATA

ADOPT = DATA / "fixtures" / "adopt"
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._\-]*")


def _toml(path: Path) -> dict[str, Any]:
    """The file read with tomli (TOML 1.1, which two pixi manifests need). Imported here, not at module
    level: an environment without provision's dependencies fails these tests, not the whole collection."""
    import tomli

    return tomli.loads(path.read_text())


def _files(*folders: str) -> list[Path]:
    found = [p for folder in folders for p in sorted((ADOPT / folder).rglob("*"))
             if p.is_file() and p.name != "PROVENANCE.md"]  # fmt: skip
    return found


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _profile_names(profile: dict[str, Any]) -> set[str]:
    specs = list(profile.get("conda") or []) + list((profile.get("pypi") or {}).get("packages") or [])
    for layers in (profile.get("targets") or {}).values():
        specs += list(layers.get("conda") or []) + list(layers.get("pypi") or [])
    names = {_key(NAME.match(s.split("::")[-1].strip()).group()) for s in specs}  # type: ignore[union-attr]
    names |= {_key(Path(e).resolve().name) for e in (profile.get("pypi") or {}).get("editable") or []}
    for entries in (profile.get("brew") or {}).values():
        names |= {_key(e) for e in entries}
    return names | {"python"}


def _declared_environment(path: Path) -> set[str]:
    document = yaml.safe_load(path.read_text())
    names = set()
    for entry in document.get("dependencies") or []:
        if isinstance(entry, str):
            names.add(NAME.match(entry.split("::")[-1].strip()).group())  # type: ignore[union-attr]
        elif isinstance(entry, dict) and isinstance(entry.get("pip"), list):
            names |= {n for line in entry["pip"] for n in _requirement_names(line)}
        elif isinstance(entry, dict):
            names |= {str(v).split()[0] for v in entry.values()}
    return names


def _requirement_names(line: str) -> list[str]:
    line = line.split(" #")[0].strip()
    if not line or line.startswith("#") or line.startswith("-"):
        return []
    found = NAME.match(line)
    return [found.group()] if found else []


def _declared_requirements(path: Path) -> set[str]:
    text = re.sub(r"\\\n", " ", path.read_text())
    names = {n for line in text.splitlines() for n in _requirement_names(line)}
    for include in re.findall(r"^\s*-r\s+(\S+)", text, re.M):
        if (path.parent / include).is_file():
            names |= _declared_requirements(path.parent / include)
    return names


def _declared_toml(path: Path) -> set[str]:
    document = _toml(path)
    names: set[str] = set()

    def pixi_tables(tables: dict[str, Any]) -> None:
        for key in ("dependencies", "pypi-dependencies"):
            names.update((tables.get(key) or {}).keys())
        for inner in (tables.get("target") or {}).values():
            pixi_tables(inner)
        for inner in (tables.get("feature") or {}).values():
            pixi_tables(inner)

    pixi = (document.get("tool") or {}).get("pixi")
    pixi_tables(pixi if isinstance(pixi, dict) else document if "workspace" in document or ("project" in document
                and "channels" in (document.get("workspace") or document.get("project") or {})) else {})  # fmt: skip
    project = document.get("project") if isinstance(document.get("project"), dict) else {}
    requirements = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        requirements += group
    for group in (document.get("dependency-groups") or {}).values():
        requirements += [r for r in group if isinstance(r, str)]
    tool = document.get("tool") or {}
    for group in ((tool.get("pdm") or {}).get("dev-dependencies") or {}).values():
        requirements += group
    requirements += (tool.get("uv") or {}).get("dev-dependencies") or []
    names |= {n for r in requirements for n in _requirement_names(r)}
    poetry = tool.get("poetry") or {}
    names |= set(poetry.get("dependencies") or {})
    for group in (poetry.get("group") or {}).values():
        names |= set((group or {}).get("dependencies") or {})
    names |= set((tool.get("conda-lock") or {}).get("dependencies") or {})
    return names


def _declared_brewfile(path: Path) -> set[str]:
    return set(re.findall(r"""^\s*(?:tap|brew|cask|mas|vscode|whalebrew)\s+["']([^"']+)["']""", path.read_text(), re.M))


def _declared(path: Path) -> set[str]:
    folder = path.relative_to(ADOPT).parts[0]
    reader = {"environment": _declared_environment, "requirements": _declared_requirements, "pixi": _declared_toml,
              "pyproject": _declared_toml, "brewfile": _declared_brewfile}[folder]  # fmt: skip
    return reader(path)


IMPORTS = _files("environment", "requirements", "pixi", "pyproject", "brewfile")


def test_the_corpus_is_real_and_large_enough() -> None:
    """At least 80 files from 25 public projects, each listed in its folder's PROVENANCE.md."""
    files = IMPORTS + _files("conda-lock", "explicit", "pixi-lock", "virtual-packages")
    repositories = set()
    for path in files:
        provenance = (ADOPT / path.relative_to(ADOPT).parts[0] / "PROVENANCE.md").read_text()
        row = next((line for line in provenance.splitlines() if f"`{path.name}`" in line or f" {path.name} " in line
                    or f"{path.relative_to(ADOPT / path.relative_to(ADOPT).parts[0])}" in line), None)  # fmt: skip
        assert row is not None, f"{path} is not in its PROVENANCE.md"
        repositories |= set(re.findall(r"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+", row.split("|")[2]))
    assert len(files) >= 80
    assert len(repositories) >= 25


def _declared_channels(path: Path) -> list[str]:
    """The channels a file names at its top, read here: an environment file's `channels:`, a pixi manifest's
    (or a pyproject's [tool.pixi]) workspace or project `channels`, a channel given as a table by its name."""
    if path.suffix in (".yml", ".yaml"):
        document = yaml.safe_load(path.read_text())
        listed = document.get("channels") if isinstance(document, dict) else None
    elif path.suffix == ".toml":
        try:
            document = _toml(path)
        except Exception:
            return []  # the TOML 1.1 manifests the reader here cannot parse (PROVENANCE.md)
        root = document.get("tool", {}).get("pixi", document) if path.name == "pyproject.toml" or "pyproject" in \
            path.name else document  # fmt: skip
        head = root.get("workspace") or root.get("project") or {}
        listed = head.get("channels") if isinstance(head, dict) else None
    else:
        return []
    names = [c.get("channel") if isinstance(c, dict) else c for c in listed or []]
    return [str(name) for name in names if isinstance(name, str)]


@pytest.mark.parametrize("path", IMPORTS, ids=lambda p: str(p.relative_to(ADOPT)))
def test_every_declared_package_is_kept_or_noted(path: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("--root", str(tmp_path), "init", "t", "--from", str(path))
    assert result.code == 0, result.err
    profile = yaml.safe_load((tmp_path / "profiles" / "t.yaml").read_text())
    notes = [line for line in result.err.splitlines() if line.startswith("note: ")]
    kept = _profile_names(profile)
    if "." in (profile.get("pypi") or {}).get("editable", []):  # the project itself, installed editable
        kept |= {_key(str(((_toml(path) if path.suffix == ".toml" else {}).get("project") or {})
                          .get("name", "")))}  # fmt: skip
    missing = [name for name in sorted(_declared(path))
               if _key(name) not in kept and not any(name.lower() in n.lower() for n in notes)]  # fmt: skip
    assert not missing, f"dropped without a note: {missing}"
    channels = [c for c in _declared_channels(path) if c not in (profile.get("channels") or [])]
    assert not [c for c in channels if not any(c in n for n in notes)], f"channels dropped without a note: {channels}"
    last = result.out.strip().splitlines()[-1]
    counted = rf"wrote profiles/t\.yaml: \d+ entries kept, {len(notes)} note\(s\); next: provision lock t"
    assert re.fullmatch(counted, last)


def test_strict_refuses_a_file_with_notes_and_writes_nothing(tmp_path: Path, run_cli) -> None:
    path = ADOPT / "pixi" / "rerun-io-rerun-pixi.toml"
    result = run_cli("--root", str(tmp_path), "init", "t", "--from", str(path), "--strict")
    assert result.code == 1 and "--strict: nothing was written" in result.err
    assert not (tmp_path / "profiles" / "t.yaml").exists()


def test_with_imports_a_feature_that_was_a_note(tmp_path: Path, run_cli) -> None:
    path = ADOPT / "pixi" / "2black0-pytorch-onnx-cuda-on-pixi-pixi.toml"
    document = _toml(path)
    feature, tables = next((k, v) for k, v in document["feature"].items() if v.get("dependencies"))
    first = run_cli("--root", str(tmp_path), "init", "a", "--from", str(path))
    assert f"--with {feature}" in first.err
    second = run_cli("--root", str(tmp_path), "init", "b", "--from", str(path), "--with", feature)
    assert second.code == 0, second.err
    profile = yaml.safe_load((tmp_path / "profiles" / "b.yaml").read_text())
    declared = {_key(n) for n in (tables.get("dependencies") or {})} - {"python"}
    assert declared <= _profile_names(profile)


@pytest.mark.parametrize(
    ("path", "said"),
    [(p, "a conda-lock file") for p in _files("conda-lock")]
    + [(p, "an @EXPLICIT list") for p in _files("explicit")]
    + [(p, "a pixi.lock") for p in _files("pixi-lock")]
    + [(p, "a conda-lock virtual-package spec") for p in _files("virtual-packages")],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_files_that_are_not_environments_are_named_for_what_they_are(path: Path, said: str, tmp_path: Path,
                                                                     run_cli) -> None:  # fmt: skip
    result = run_cli("--root", str(tmp_path), "init", "t", "--from", str(path))
    assert result.code == 1
    assert said in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "profiles").exists()


# --- locks -------------------------------------------------------------------------------------


def _declared_lock(path: Path, categories: set[str]) -> dict[str, set[tuple[str, str, str]]]:
    """platform -> {(manager, name, version)} of the entries in `categories`, read with PyYAML."""
    document = yaml.safe_load(path.read_text())
    out: dict[str, set[tuple[str, str, str]]] = {}
    for entry in document["package"]:
        entry_categories = set(entry.get("categories") or [entry.get("category", "main")])
        if entry_categories & categories:
            name = entry["name"].lower()
            name = _key(name) if entry.get("manager") == "pip" else name
            out.setdefault(entry["platform"], set()).add((entry.get("manager", "conda"), name, str(entry["version"])))
    return out


LOCKS = _files("conda-lock")


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: p.name)
def test_every_real_conda_lock_is_read_whole(path: Path) -> None:
    lock = read_lock(path)
    for categories in ({"main"}, set(lock.categories)):
        declared = _declared_lock(path, categories)
        selected = lock.in_categories(frozenset(categories), str(path))
        for platform in lock.platforms:
            ours = {(p.manager, _key(p.name) if p.manager == "pip" else p.name.lower(), p.version)
                    for p in selected.for_platform(platform)}  # fmt: skip
            assert ours == declared.get(platform, set()), (platform, categories)


TREE_LINE = re.compile(r"\s*(\S+) (\S+) \((conda|pypi)\)")


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: p.name)
def test_every_real_conda_lock_is_whole_in_its_tree(path: Path, run_cli) -> None:
    """`tree --lockfile` prints every locked package: the members of a cycle nothing outside it needs, and
    a name locked in both layers (numpy from conda and from PyPI) with each layer's dependencies."""
    declared = _declared_lock(path, {"main"} | set(read_lock(path).categories))
    categories = [arg for category in read_lock(path).categories for arg in ("--category", category)]
    for platform, packages in declared.items():
        result = run_cli("tree", "--lockfile", str(path), "--platform", platform, *categories)
        assert result.code == 0, result.err
        shown = set()
        for line in result.out.splitlines():
            name, version, layer = TREE_LINE.match(line).groups()  # type: ignore[union-attr]
            shown.add(("conda", name.lower(), version) if layer == "conda" else ("pip", _key(name), version))
        assert shown == packages, (platform, sorted(packages - shown)[:5])


@pytest.mark.parametrize("path", _files("explicit"), ids=lambda p: p.name)
def test_every_real_explicit_list_is_read_or_refused_in_one_line(path: Path, run_cli) -> None:
    """conda's own exports without `--md5` carry no hash: those are refused (nothing to check against)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    urls = [line for line in lines if line and not line.startswith(("#", "@"))]
    pips = [line for line in lines if re.match(r"#\s*pip\s", line)]
    hashed = all("#" in u for u in urls) and all("#sha256=" in p or "git+" in p for p in pips)
    if hashed:
        lock = read_lock(path)
        assert len(lock.platforms) == 1
        assert {p.url for p in lock.packages if p.manager == "conda"} == {u.split("#")[0] for u in urls}
        assert len([p for p in lock.packages if p.manager == "pip"]) == len(pips)
    else:
        result = run_cli("status", "--lockfile", str(path))
        assert result.code == 1 and "has no" in result.err and len(result.err.strip().splitlines()) == 1


def test_categories_select_like_conda_lock_install(run_cli) -> None:
    path = DATA / "fixtures" / "conda-lock" / "conda-lock-tests" / "multiple-categories" / "conda-lock.yml"
    lock = read_lock(path)
    assert len(lock.packages) == 101
    assert len(lock.in_categories(frozenset({"main"}), "x").packages) == 20  # what `conda-lock install` installs
    result = run_cli("plan", "--lockfile", str(path), "--category", "nope")
    assert result.code == 1 and "no category nope in this lock; it has main, dev, test" in result.err


def test_our_explicit_export_reads_back(tmp_path: Path, run_cli) -> None:
    from .conftest import REPO

    out = tmp_path / "explicit"
    assert run_cli("--root", str(REPO), "export", "torch-linux", "--format", "explicit", "--output", str(out)).code == 0
    exported = next(out.iterdir())
    original = read_lock(REPO / "envs" / "torch-linux" / "cuda" / "conda-lock.yml").for_platform("linux-64")
    again = read_lock(exported)
    assert {(p.name, p.version, p.url, p.md5) for p in again.packages} == {
        (p.name, p.version, p.url, p.md5) for p in original
    }


def test_a_git_pinned_pypi_entry_is_accepted_and_an_unpinned_one_named_whole(tmp_path: Path) -> None:
    path = ADOPT / "conda-lock" / "conda-conda-lock-v2.5.8-git-pip-conda-lock.yml"
    lock = read_lock(path)
    git = [p for p in lock.packages if p.git_commit]
    assert git and all(len(p.git_commit or "") == 40 and p.pin.startswith("git commit ") for p in git)
    text = path.read_text()
    commit = git[0].git_commit or ""
    hostile = tmp_path / "unpinned-conda-lock.yml"  # hand-made from the real file: the commit replaced by a branch
    hostile.write_text(text.replace(f"@{commit}", "@main").replace(f"sha256: {commit}", "sha256: null"))
    from provision.errors import LockfileError

    with pytest.raises(LockfileError) as refused:
        read_lock(hostile)
    assert f"{git[0].url.rsplit('@', 1)[0]}@main is not pinned to a full commit" in str(refused.value)


def test_a_pixi_per_package_index_becomes_a_named_explicit_index(tmp_path: Path, run_cli) -> None:
    """pixi's `torch = { version = "==2.8.0", index = "https://download.pytorch.org/whl/cu128" }`."""
    path = ADOPT / "pixi" / "218oscar-adaptive-compliance-policy-pixi.toml"
    assert run_cli("--root", str(tmp_path), "init", "t", "--from", str(path), "--with", "cuda128").code == 0
    pypi = yaml.safe_load((tmp_path / "profiles" / "t.yaml").read_text())["pypi"]
    index = pypi["sources"]["torch"]
    assert pypi["indexes"][index] == "https://download.pytorch.org/whl/cu128"
    assert pypi["sources"]["torchvision"] == index and "torch==2.8.0" in pypi["packages"]


def test_a_bom_and_a_dev_only_lock_are_read(tmp_path: Path) -> None:
    """A BOM (Windows editors write one) is no content; a lock whose packages are all `dev` installs
    with --category dev (main is implied, not required)."""
    from dataclasses import replace

    real = ADOPT / "explicit" / "cryointhecloud-hub-image-conda-linux-64.lock"
    with_bom = tmp_path / "conda-linux-64.lock"
    with_bom.write_bytes(b"\xef\xbb\xbf" + real.read_bytes())  # hand-made: the real list with a BOM added
    assert len(read_lock(with_bom).packages) == len(read_lock(real).packages)
    lock = read_lock(DATA / "fixtures" / "conda-lock" / "conda-lock-tests" / "multiple-categories" / "conda-lock.yml")
    dev_only = replace(lock, packages=[replace(p, categories=frozenset({"dev"})) for p in lock.packages])
    assert len(dev_only.in_categories(frozenset({"main", "dev"}), "x").packages) == len(lock.packages)


# --- a package listed twice ------------------------------------------------------------------------


def _import(path: Path, tmp_path: Path, run_cli, *more: str) -> tuple[dict[str, Any], list[str]]:
    """The profile `init --from` wrote for `path`, and its notes."""
    result = run_cli("--root", str(tmp_path), "init", "t", "--from", str(path), *more)
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if line.startswith("note: ")]
    return yaml.safe_load((tmp_path / "profiles" / "t.yaml").read_text()), notes


def _requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirement lines as written, its `-r` includes followed (options, comments
    and direct URLs, which are notes, left aside)."""
    out: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if line.startswith("-r "):
            out += _requirement_lines(path.parent / line[3:].strip())
        elif line and not line.startswith(("#", "-")) and " @ " not in line:
            out.append(line)
    return out


def test_a_pypi_package_listed_twice_keeps_every_line(tmp_path: Path, run_cli) -> None:
    """vllm's requirements/tpu.txt (with common.txt) names numba under two markers, ray with two extras
    and setuptools with and without a marker: every line's extras and versions reach the profile, under
    its own marker, and the profile model keeps them (one entry per package and marker)."""
    from packaging.requirements import Requirement

    from provision.profile.model import Profile

    path = ADOPT / "requirements" / "vllm-project-vllm" / "tpu.txt"
    written = [Requirement(line) for line in _requirement_lines(path)]
    names = [_key(r.name) for r in written]
    assert {"numba", "ray", "setuptools"} <= {n for n in names if names.count(n) > 1}
    profile, notes = _import(path, tmp_path, run_cli)
    ours = [Requirement(r) for r in profile["pypi"]["packages"]]
    for line in written:
        same = [r for r in ours if _key(r.name) == _key(line.name) and str(r.marker) == str(line.marker)]
        assert len(same) == 1, f"{line}: {same}"
        assert line.extras <= same[0].extras, f"{line} -> {same[0]}"
        assert {str(s) for s in line.specifier} <= {str(s) for s in same[0].specifier}, f"{line} -> {same[0]}"
    assert len(ours) == len({(_key(r.name), str(r.marker)) for r in written})
    assert [str(r) for r in ours if r.name == "ray"] == ["ray[data,default]"]
    assert not any("numba" in n or "ray" in n or "setuptools" in n for n in notes)
    model = Profile.model_validate({k: v for k, v in profile.items()})
    numba = [r for r in model.pypi_for("linux-64") if r.startswith("numba")]
    assert numba == [str(r) for r in profile["pypi"]["packages"] if r.startswith("numba")] and len(numba) == 2


def test_a_target_or_an_add_replaces_every_entry_of_a_package(tmp_path: Path, run_cli) -> None:
    """A package listed under two markers (as vllm's numba) is one package to a platform's target and
    to `provision add`: each replaces both entries, never only the last."""
    from provision.profile.model import Profile

    path = ADOPT / "requirements" / "vllm-project-vllm" / "tpu.txt"
    profile, _ = _import(path, tmp_path, run_cli)
    targeted = Profile.model_validate({**profile, "targets": {"linux-64": {"pypi": ["numba==0.62.1"]}}})
    linux = targeted.pypi_for("linux-64")
    assert [r for r in linux if r.startswith("numba")] == ["numba==0.62.1"]
    assert len(linux) == len(profile["pypi"]["packages"]) - 1
    added = run_cli("--root", str(tmp_path), "add", "t", "--pypi", "numba==0.62.1", "--no-lock")
    assert added.code == 0, added.err
    after = yaml.safe_load((tmp_path / "profiles" / "t.yaml").read_text())["pypi"]["packages"]
    assert [r for r in after if r.startswith("numba")] == ["numba==0.62.1"]


def test_a_conda_package_listed_twice_keeps_its_version_range(tmp_path: Path, run_cli) -> None:
    """rapidsai/cudf's environment file lists `pandas` and `pandas>=2.0,<2.2.3dev0`: the range is kept."""
    path = ADOPT / "environment" / "rapidsai-cudf-all_cuda-118_arch-x86_64.yaml"
    specs = [s for s in yaml.safe_load(path.read_text())["dependencies"] if isinstance(s, str)]
    names = [NAME.match(s).group() for s in specs]  # type: ignore[union-attr]
    twice = {n for n in names if names.count(n) > 1}
    assert "pandas" in twice
    profile, notes = _import(path, tmp_path, run_cli)
    for name in twice:
        ours = [c for c in profile["conda"] if NAME.match(c).group() == name]  # type: ignore[union-attr]
        assert len(ours) == 1
        for spec in (s for s in specs if NAME.match(s).group() == name):  # type: ignore[union-attr]
            assert spec[len(name):].replace(" ", "") in ours[0].replace(" ", ""), (spec, ours)
    assert not any("pandas" in n for n in notes)


def test_two_conda_specs_that_do_not_join_are_one_note(tmp_path: Path, run_cli) -> None:
    """Hand-made from cudf's file: its pandas range written again with a build string. Two specs with
    builds do not join into one MatchSpec; the second is left out in one note, the first kept whole."""
    real = ADOPT / "environment" / "rapidsai-cudf-all_cuda-118_arch-x86_64.yaml"
    hand_made = tmp_path / "environment.yaml"
    hand_made.write_text(real.read_text().replace("- pandas\n", "- pandas 2.1.4 py311_0\n", 1))
    profile, notes = _import(hand_made, tmp_path, run_cli)
    assert [c for c in profile["conda"] if c.startswith("pandas")] == ["pandas 2.1.4 py311_0"]
    said = [n for n in notes if "pandas" in n]
    assert said == ["note: conda 'pandas>=2.0,<2.2.3dev0' left out: 'pandas 2.1.4 py311_0' names pandas too and the "
                    "two do not join into one spec (a profile lists a conda package once); write the one you mean"]


# --- pixi's conda dependency tables --------------------------------------------------------------


@pytest.mark.parametrize("name", ["prefix-dev-pixi-schema-full-pixi.toml", "pydata-xarray-pixi.toml"])
def test_pixi_conda_tables_keep_every_field_or_leave_a_source_package_out(name: str, tmp_path: Path,
                                                                          run_cli) -> None:  # fmt: skip
    """pixi's schema example names every conda table key (version, build, build-number, channel, subdir,
    md5, sha256, file-name; url, path, git); xarray's manifest has `xarray = { path = "." }`. Each field
    reaches the MatchSpec the solver is given; a url, path or git package is never turned into the
    channel's package of that name: it is left out in one note that says why."""
    from rattler import MatchSpec

    path = ADOPT / "pixi" / name
    tables = {k: v for k, v in _toml(path)["dependencies"].items() if isinstance(v, dict)}
    profile, notes = _import(path, tmp_path, run_cli)
    ours = {_key(NAME.match(c.split("::")[-1]).group()): c for c in profile["conda"]}  # type: ignore[union-attr]
    fields = {"build": "build", "build-number": "build_number", "file-name": "file_name", "subdir": "subdir"}
    for package, table in tables.items():
        if {"url", "path", "git"} & set(table):
            assert _key(package) not in ours, f"{package} = {table} became {ours.get(_key(package))}"
            said = [n for n in notes if n.startswith(f"note: dependencies.{package} left out: ")]
            assert len(said) == 1 and "not a package a channel serves" in said[0], notes
            continue
        spec = MatchSpec(ours[_key(package)], strict=False)
        assert str(spec.version).replace("==", "") == table.get("version", "*").replace("==", "") or (
            spec.version is None and table.get("version", "*") == "*"), (package, ours[_key(package)])  # fmt: skip
        for key, field in fields.items():
            if key in table:
                assert str(getattr(spec, field)).lstrip("=") == str(table[key]).lstrip("="), (package, key)
        for key in ("md5", "sha256"):
            if key in table:
                assert getattr(spec, key).hex() == table[key], (package, key)
        if "channel" in table:
            assert spec.channel is not None and spec.channel.name == table["channel"]
    assert any(map({"url", "path", "git"}.intersection, tables.values()))


def test_a_pixi_table_that_is_not_read_is_one_note_naming_its_packages(tmp_path: Path, run_cli) -> None:
    """xarray's `[feature.nodask.constraints]` (dask-core kept out by a bound) was dropped without a word
    when the feature was imported; every table of an imported feature that is not read is now a note."""
    path = ADOPT / "pixi" / "pydata-xarray-pixi.toml"
    feature = _toml(path)["feature"]["nodask"]
    _, notes = _import(path, tmp_path, run_cli, "--with", "nodask")
    for key, value in feature.items():
        said = [n for n in notes if n.startswith(f"note: [feature.nodask.{key}]")]
        assert len(said) == 1, (key, notes)
        assert all(f"{name} {bound}" in said[0] for name, bound in value.items())


# --- a Python pin with a build string ---------------------------------------------------------------


PYTHON_BUILDS = [p for p in _files("environment") if re.search(r"^\s*-\s*python=[^=\s]+=\S+", p.read_text(), re.M)]


@pytest.mark.parametrize("path", PYTHON_BUILDS, ids=lambda p: p.name)
def test_a_python_pin_with_a_build_keeps_its_version_and_notes_its_build(path: Path, tmp_path: Path,
                                                                         run_cli) -> None:  # fmt: skip
    """`conda env export` writes `python=3.6.13=h12debd9_1`: a profile pins Python by version alone, so
    the version is the profile's python: and the build string is one note, never dropped unsaid."""
    entry = next(e for e in yaml.safe_load(path.read_text())["dependencies"]
                 if isinstance(e, str) and e.startswith("python="))  # fmt: skip
    _, version, build = entry.split("=")
    profile, notes = _import(path, tmp_path, run_cli)
    assert str(profile["python"]) == version
    assert f"note: python '{entry}': build string '{build}' left out: a profile pins Python by its version alone " \
           "(python:)" in notes  # fmt: skip


def test_the_python_build_cases_are_real() -> None:
    assert {"advimman-lama-conda_env.yml", "john-bradshaw-rxn-splits-full-export-mchn2.yml"} <= {
        p.name for p in PYTHON_BUILDS}  # fmt: skip


# --- Brewfile conditions -----------------------------------------------------------------------------


def _brew_entries_and_conditions(path: Path) -> list[tuple[int, str, str, set[str]]]:
    """(line, kind, name, tests) for each tap/brew/cask line, read with a few regular expressions: tests
    holds 'mac', 'linux' (an `OS.mac?` / `OS.linux?` test that must hold, `unless` and `else` turned),
    'other', or 'ruby' for an entry inside an expression, from the enclosing if/unless/elsif/else blocks
    and a trailing `if`/`unless`."""
    turned = {"mac": "linux", "linux": "mac", "other": "other"}

    def test(text: str, negated: bool) -> str:
        os = {"OS.mac?": "mac", "OS.linux?": "linux"}.get(text.strip(), "other")
        return turned[os] if negated else os

    blocks: list[tuple[list[str], str | None]] = []  # (earlier branches' tests, this branch's test)
    out = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(" #")[0].strip()
        opening = re.fullmatch(r"(if|unless|elsif)\s+(.+)", line)
        if opening and opening.group(1) == "elsif":
            earlier, current = blocks.pop()
            blocks.append(([*earlier, *([current] if current else [])], test(opening.group(2), False)))
        elif opening:
            blocks.append(([], test(opening.group(2), opening.group(1) == "unless")))
        elif line == "else":
            earlier, current = blocks.pop()
            blocks.append(([*earlier, *([current] if current else [])], None))
        elif line == "end" and blocks:
            blocks.pop()
        entry = re.match(r"""(tap|brew|cask)\s+["']([^"']+)["']([^#]*)""", line)
        if entry:
            tests = {turned[t] for earlier, _ in blocks for t in earlier} | {c for _, c in blocks if c}
            trailing = re.search(r"\s(if|unless)\s+(.+)$", entry.group(3))
            if trailing:
                tests.add(test(trailing.group(2), trailing.group(1) == "unless"))
            elif entry.group(3).strip() and not entry.group(3).strip().startswith(","):
                tests.add("ruby")  # `tap 'x' || true`: an expression, not an entry
            out.append((number, entry.group(1), entry.group(2), tests))
    return out


BREW_CONDITIONS = [p for p in _files("brewfile") if re.search(r"^\s*(if|unless|elsif)\s|\s(if|unless)\s+OS\.",
                                                                p.read_text(), re.M)]  # fmt: skip


@pytest.mark.parametrize("path", BREW_CONDITIONS, ids=lambda p: p.name)
def test_a_brewfile_entry_under_a_condition_keeps_its_meaning_or_says_so(path: Path, tmp_path: Path,
                                                                         run_cli) -> None:  # fmt: skip
    """A profile's brew: is installed on macOS only. So an entry under `if OS.mac?` is kept as it is; one
    under `if OS.linux?` (amad/dotfiles' `elsif OS.linux?` xclip, deekim's `brew "glibc" if OS.linux?`) is
    left out in one note; one under another condition (uchilaka's `elsif OS.mac?` after `if File.exist?`)
    is kept with one note naming the condition it lost. None becomes unconditional without a word."""
    profile, notes = _import(path, tmp_path, run_cli)
    kept = {_key(n) for entries in (profile.get("brew") or {}).values() for n in entries}
    entries = _brew_entries_and_conditions(path)
    unconditional = {_key(name) for _, _, name, tests in entries if tests <= {"mac"}}
    for number, kind, name, tests in entries:
        said = [n for n in notes if n.startswith(f"note: {path}:{number}: {kind} '{name}' ")]
        if "ruby" in tests:
            assert any(n.startswith(f"note: {path}:{number}: ") and name in n for n in notes), (number, name)
        elif "linux" in tests:
            assert len(said) == 1 and "left out: it is " in said[0], (number, name, notes)
            assert _key(name) in unconditional or _key(name) not in kept, (number, name)
        elif "other" in tests:
            assert len(said) == 1 and "kept without its condition" in said[0], (number, name, notes)
            assert _key(name) in kept
        else:
            assert not said and _key(name) in kept, (number, name, said)


def test_the_brewfile_conditions_are_real() -> None:
    """The cases above come from real files: a mac block with a Linux branch, trailing `if OS.x?`, and a
    platform test after another condition."""
    found = {p.name: {frozenset(t) for *_, t in _brew_entries_and_conditions(p)} for p in BREW_CONDITIONS}
    assert {frozenset({"mac"}), frozenset({"linux"})} <= found["amad-dotfiles.Brewfile"]
    assert {frozenset({"mac"}), frozenset({"linux"})} <= found["deekim-dot-min.Brewfile"]
    assert frozenset({"mac", "other"}) in found["uchilaka-cami.Brewfile"]


def test_a_lock_without_this_machines_platform_says_which_one_it_shows(run_cli) -> None:
    """tudoroancea/brains2's lock holds osx-arm64 and linux-aarch64 only: `tree` shows its first platform, and
    says so, since its help promises this machine's."""
    import platform

    from provision.machine.facts import conda_subdir

    path = ADOPT / "conda-lock" / "tudoroancea-brains2-conda-lock.yml"
    assert read_lock(path).platforms == ["osx-arm64", "linux-aarch64"]
    here = conda_subdir(platform.system(), platform.machine())
    result = run_cli("tree", "--lockfile", str(path))
    assert result.code == 0, result.err
    if here == "linux-aarch64":  # the lock has this machine's platform: nothing to say
        assert "note:" not in result.err
    else:
        assert f"note: {path} has no {here}; showing osx-arm64 (--platform NAME for another: " in result.err
