"""The security corpus: hostile lockfiles, packages, wheels, prefixes, profiles and facts folders,
each generated here from a real locked and applied world (tiny conda packages and wheels).

Every case asserts the documented exit code, one line naming the problem (never a traceback or
"internal error"), and that nothing outside the cache changed: the whole world (project, the
existing environment, a sentinel folder of the user's, provision's home) is hashed before and after.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import builders
from .world import E2E

# Verified downloads may be cached and an apply takes its prefix lock; nothing else may change.
SKIPPED_FROM_SNAPSHOT = {("cache",), ("uv-cache",), ("home", "locks")}


@dataclass
class World:
    e2e: E2E
    lock: dict[str, Any]  # the valid lock, parsed
    sentinel: Path  # a user's folder that nothing may touch

    @property
    def tmp(self) -> Path:
        return self.e2e.tmp


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    e2e = E2E(tmp_path_factory.mktemp("hostile"))
    assert e2e.run("lock", "e2e").returncode == 0
    applied = e2e.run("apply", "e2e")  # the existing environment every case must leave alone
    assert applied.returncode == 0, applied.stderr
    sentinel = e2e.tmp / "user"
    (sentinel / "data").mkdir(parents=True)
    (sentinel / "data" / "thesis.txt").write_text("four years of work\n")
    (sentinel / ".gitignore").write_text("*.pyc\n")
    lock = yaml.safe_load((e2e.root / "envs/e2e/conda-lock.yml").read_text())
    return World(e2e, lock, sentinel)


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[:1] in SKIPPED_FROM_SNAPSHOT or relative.parts[:2] in SKIPPED_FROM_SNAPSHOT:
            continue
        if path.is_symlink():
            out[str(relative)] = "-> " + os.readlink(path)
        elif path.is_file():
            out[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[str(relative)] = "dir"
        else:
            out[str(relative)] = "special"
    return out


def refused(world: World, args: list[str], code: int, fragment: str, extra: dict[str, str] | None = None) -> None:
    before = snapshot(world.tmp)
    done = world.e2e.run(*args, extra=extra)  # a hang ends in the run's timeout; speed is benchmarks/refusal_speed.py's
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("==> ")]  # progress
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert fragment in lines[0], lines[0]
    assert snapshot(world.tmp) == before, "something outside the cache changed"


# ----------------------------------------------------------------------------- hostile lockfiles

Mutation = Callable[[dict[str, Any]], None]


def field(index: int, path: str, value: Any) -> Mutation:
    def mutate(lock: dict[str, Any]) -> None:
        target = lock["package"][index]
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return mutate


CONDA, PIP = 1, 4  # provtest-tool (conda) and provtest-hello (pip) in the world's lock
FIELD_CASES: list[tuple[str, str, Any, str]] = [
    ("hash.sha256", "sha256", "../../../escape", "64 hexadecimal digits"),
    ("hash.sha256", "sha256", "", "64 hexadecimal digits"),
    ("hash.sha256", "sha256", "e" * 63, "64 hexadecimal digits"),
    ("hash.sha256", "sha256", "g" * 64, "64 hexadecimal digits"),
    ("hash.sha256", "sha256", "a" * 64 + "\n", "control character"),
    ("hash.sha256", "sha256", "provtest-tool-1.0-0.tar.bz2", "64 hexadecimal digits"),
    ("hash.sha256", "sha256", 12345, "not text"),
    ("hash.sha256", "sha256", ["a" * 64], "not text"),
    ("hash.md5", "md5", "../x", "32 hexadecimal digits"),
    ("hash.md5", "md5", "0" * 31, "32 hexadecimal digits"),
    ("hash", "hash", "sha256", "not a mapping"),
    ("name", "name", "", "name"),
    ("name", "name", "../evil", "name"),
    ("name", "name", "evil\n-r /etc/hostname", "control character"),
    ("name", "name", "two words", "name"),
    ("name", "name", "-r", "name"),
    ("name", "name", None, "not text"),
    ("name", "name", 7, "not text"),
    ("version", "version", "", "version"),
    ("version", "version", "1.0\n", "control character"),
    ("version", "version", "../1", "version"),
    ("version", "version", "1 0", "version"),
    ("version", "version", None, "not text"),
    ("manager", "manager", "evil", "not a package manager"),
    ("manager", "manager", "", "not a package manager"),
    ("manager", "manager", None, "not a package manager"),
    ("platform", "platform", "linux-65", "not one of metadata.platforms"),
    ("platform", "platform", "osx-arm64", "not one of metadata.platforms"),
    ("platform", "platform", None, "not one of metadata.platforms"),
    ("url", "url", "http://example.invalid/provtest-tool-1.0-0.tar.bz2", "plain http"),
    ("url", "url", "ftp://example.invalid/provtest-tool-1.0-0.tar.bz2", "URL"),
    ("url", "url", "/etc/passwd", "URL"),
    ("url", "url", "file:///etc/passwd", "is not a"),
    ("url", "url", "https://example.invalid/pkg.tar.bz2\n", "control character"),
    ("url", "url", "https://example.invalid/.hidden.conda", "is not a"),
    ("url", "url", "https://example.invalid/x.exe", "is not a"),
    ("url", "url", "https://example.invalid/a b.conda", "URL"),
    ("url", "url", None, "not text"),
    # Dot segments: the file fetched is not the one the URL seems to name (a server or a path join resolves them).
    ("url", "url", "https://example.invalid/linux-64/../../evil/provtest-tool-1.0-0.tar.bz2", "a '..' segment"),
    ("url", "url", "file:///srv/channel/./linux-64/provtest-tool-1.0-0.tar.bz2", "a '.' segment"),
    ("url", "url", "https://example.invalid/a/%2E%2e/provtest-tool-1.0-0.tar.bz2", "a '..' segment"),
    ("dependencies", "dependencies", {"a\nb": ""}, "control character"),
    ("dependencies", "dependencies", {"x": "1\n-r /etc/hostname"}, "control character"),
    ("dependencies", "dependencies", ["provtest-base"], "must map"),
]


def _field_cases() -> list[Any]:
    cases = []
    for index, layer in ((CONDA, "conda"), (PIP, "pip")):
        for number, (loc, path, value, fragment) in enumerate(FIELD_CASES):
            if loc == "hash.md5" and layer == "pip":
                path = "hash.md5"  # a wheel's md5, if present, is checked as strictly
            target = {"sha256": "hash.sha256", "md5": "hash.md5"}.get(path, path)
            cases.append(pytest.param(field(index, target, value), fragment, id=f"{layer}-{loc}-{number}"))
    # The same wheel twice with different files, and a conda archive named as a wheel.
    cases.append(
        pytest.param(field(PIP, "url", "file:///x/provtest_hello-1.0-0.tar.bz2"), "is not a", id="pip-as-conda")
    )
    cases.append(
        pytest.param(
            field(CONDA, "url", "file:///x/provtest_tool-1.0-py3-none-any.whl"), "is not a", id="conda-as-wheel"
        )
    )
    cases.append(pytest.param(field(PIP, "version", "1.0.0.0.0-bogus"), "PEP 440", id="pip-not-pep440"))
    return cases


def _duplicate(lock: dict[str, Any]) -> None:
    twin = copy.deepcopy(lock["package"][CONDA])
    twin["version"] = "9.9"
    lock["package"].append(twin)


def _drop(key: str) -> Mutation:
    return lambda lock: lock["metadata"].pop(key)


def _set_meta(key: str, value: Any) -> Mutation:
    return lambda lock: lock["metadata"].__setitem__(key, value)


STRUCTURE_CASES = [
    pytest.param(lambda lock: lock.__setitem__("version", 2), "not a conda-lock version 1 file", id="version-2"),
    pytest.param(lambda lock: lock.pop("metadata"), "metadata", id="no-metadata"),
    pytest.param(_drop("platforms"), "metadata.platforms", id="no-platforms"),
    pytest.param(_set_meta("platforms", []), "metadata.platforms", id="empty-platforms"),
    pytest.param(_set_meta("platforms", "linux-64"), "metadata.platforms", id="platforms-text"),
    pytest.param(_set_meta("platforms", ["../linux"]), "conda platform", id="platform-path"),
    pytest.param(_set_meta("channels", "conda-forge"), "must be a list", id="channels-text"),
    pytest.param(_set_meta("channels", [{"url": "conda forge"}]), "channel", id="channel-space"),
    pytest.param(_set_meta("channels", [{"url": "http://example.invalid/c"}]), "plain http", id="channel-http"),
    pytest.param(_set_meta("channels", [{"url": "x\ny"}]), "control character", id="channel-newline"),
    pytest.param(_set_meta("channels", [{"url": "https://example.invalid/a/../c"}]), "a '..' segment",
                 id="channel-dot-dot"),
    pytest.param(_set_meta("content_hash", ["x"]), "content_hash", id="content-hash-list"),
    pytest.param(_set_meta("custom_metadata", {"a": 1}), "custom_metadata", id="custom-not-text"),
    pytest.param(lambda lock: lock.__setitem__("package", {"a": 1}), "must be a list", id="package-mapping"),
    pytest.param(lambda lock: lock["package"].append("numpy"), "not a mapping", id="package-text"),
    pytest.param(lambda lock: lock["package"].append(None), "not a mapping", id="package-null"),
    pytest.param(_duplicate, "locked twice", id="duplicate-package"),
]


def _write_lock(world: World, name: str, lock: dict[str, Any] | None = None, text: str | bytes | None = None) -> Path:
    path = world.tmp / "hostile-locks" / name / "conda-lock.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if lock is not None:
        text = yaml.safe_dump(lock, sort_keys=False)
    path.write_bytes(text if isinstance(text, bytes) else str(text).encode())
    return path


def _apply_lock(world: World, path: Path, *more: str) -> list[str]:
    return ["apply", "--lockfile", str(path), "--prefix", str(world.tmp / "new-env"), "--no-verify", *more]


@pytest.mark.parametrize(("mutate", "fragment"), _field_cases() + STRUCTURE_CASES)
def test_hostile_lock_field_is_refused_before_anything_happens(
    world: World, mutate: Mutation, fragment: str, request: pytest.FixtureRequest
) -> None:
    lock = copy.deepcopy(world.lock)
    mutate(lock)
    path = _write_lock(world, request.node.callspec.id, lock)
    refused(world, _apply_lock(world, path), 1, fragment)
    refused(world, _apply_lock(world, path, "--dry-run"), 1, fragment)  # --dry-run validates the same way


def _lock_text(world: World) -> str:
    return (world.e2e.root / "envs/e2e/conda-lock.yml").read_text()


RAW_CASES: list[Any] = [
    pytest.param(
        lambda w: _lock_text(w).replace("  platforms:\n", "  platforms:\n  - linux-64\n  platforms:\n", 1),
        "duplicate key",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        lambda w: "version: 1\nmetadata: &m {platforms: [linux-64]}\npackage: [*m]\n", "aliases", id="yaml-alias"
    ),
    pytest.param(lambda w: "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n", "aliases", id="laughs"),
    pytest.param(lambda w: "version: [unclosed\n", "invalid YAML", id="yaml-syntax"),
    pytest.param(lambda w: b"\xff\xfe\x00garbage", "not UTF-8", id="not-utf8"),
    pytest.param(lambda w: "", "not a conda-lock version 1 file", id="empty"),
    pytest.param(lambda w: "- just\n- a list\n", "not a conda-lock version 1 file", id="a-list"),
    pytest.param(lambda w: "version: 1\nmetadata: !!python/object:os.system {}\n", "invalid YAML", id="python-tag"),
    pytest.param(lambda w: "x" * 21_000_000, "larger than 20 MB", id="huge"),
]


MD5 = "d7c89558ba9fa0495403155b64376d81"
EXPLICIT = "# platform: linux-64\n@EXPLICIT\n"
# Hand-made hostile variants of the lock kinds adopted from the real world (explicit lists, git pins,
# categories, files of another kind); each is one line and changes nothing.
ADOPTED_CASES: list[Any] = [
    pytest.param(lambda w: EXPLICIT + "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3-h1.conda\n",
                 "has no hash", id="explicit-no-hash"),
    pytest.param(lambda w: EXPLICIT + "https://x.org/linux-64/zlib-1.3-h1.conda#sha256:zz\n", "where a hash belongs",
                 id="explicit-bad-hash"),
    pytest.param(lambda w: "# platform: ../../etc\n@EXPLICIT\nhttps://x.org/a/zlib-1.3-h1.conda#" + MD5 + "\n",
                 "not a conda platform", id="explicit-platform-path"),
    pytest.param(lambda w: EXPLICIT + "https://x.org/linux-64/evil.sh#" + MD5 + "\n", "not a conda archive",
                 id="explicit-not-an-archive"),
    pytest.param(lambda w: EXPLICIT + "https://x.org/linux-64/zlib-1.3-h1.conda#" + MD5 + "\n# pip --index-url @ "
                 "https://x.org/a-1.0-py3-none-any.whl#sha256=" + "a" * 64 + "\n", "not a PEP 503 project name",
                 id="explicit-pip-option-name"),
    pytest.param(lambda w: EXPLICIT + "# pip evil @ https://x.org/evil-1.0-py3-none-any.whl#md5=None\n",
                 "no sha256 hash", id="explicit-pip-no-hash"),
    pytest.param(lambda w: "@EXPLICIT\nhttps://x.org/linux-64/a-1-h1.conda#" + MD5 + "\nhttps://x.org/osx-arm64/b-1-h1"
                 ".conda#" + MD5 + "\n", "no `# platform:` line", id="explicit-two-platforms"),
    pytest.param(lambda w: _lock_text(w).replace("  category: main", "  category: ../../x", 1), "a category name",
                 id="category-path"),
    pytest.param(lambda w: _git_lock("git+https://github.com/a/b.git@main"), "is not pinned to a full commit",
                 id="git-unpinned"),
    pytest.param(lambda w: _git_lock("git+ssh://git@github.com/a/b.git@" + "a" * 40), "is not pinned to a full commit",
                 id="git-ssh"),
    pytest.param(lambda w: _git_lock("git+https://github.com/a/b.git@" + "a" * 40, "b" * 40), "recorded hash differ",
                 id="git-commit-mismatch"),
    pytest.param(lambda w: _git_lock("git+https://github.com/a/../../evil/b.git@" + "a" * 40), "a '..' segment",
                 id="git-dot-dot"),
    pytest.param(lambda w: "version: 6\nenvironments: {}\npackages: []\n", "a pixi.lock", id="pixi-lock"),
    pytest.param(lambda w: "name: x\ndependencies: [numpy]\n", "a conda environment file", id="environment-file"),
    pytest.param(lambda w: "subdirs:\n  linux-64:\n    packages:\n      __cuda: 12\n", "virtual-package spec",
                 id="virtual-packages"),
]


def _git_lock(url: str, recorded: str | None = None) -> str:
    commit = recorded or url.rsplit("@", 1)[-1]
    return ("version: 1\nmetadata: {content_hash: {}, channels: [], platforms: [linux-64], sources: [x]}\npackage:\n"
            f"- {{name: b, version: '1.0', manager: pip, platform: linux-64, dependencies: {{}}, url: '{url}', "
            f"hash: {{sha256: '{commit}'}}}}\n")  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), ADOPTED_CASES)
def test_hostile_adopted_lock_is_refused(
    world: World, make: Callable[[World], str], fragment: str, request: pytest.FixtureRequest
) -> None:
    path = _write_lock(world, request.node.callspec.id, text=make(world))
    refused(world, _apply_lock(world, path, "--dry-run"), 1, fragment)
    refused(world, ["status", "--lockfile", str(path), "--prefix", str(world.tmp / "new-env")], 1, fragment)


@pytest.mark.parametrize(("make", "fragment"), RAW_CASES)
def test_hostile_lock_text_is_refused(
    world: World, make: Callable[[World], str | bytes], fragment: str, request: pytest.FixtureRequest
) -> None:
    path = _write_lock(world, request.node.callspec.id, text=make(world))
    refused(world, _apply_lock(world, path, "--dry-run"), 1, fragment)


def test_a_fifo_as_lockfile_is_refused_without_hanging(world: World) -> None:
    fifo = world.tmp / "hostile-locks" / "fifo.yml"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    refused(world, _apply_lock(world, fifo, "--dry-run"), 1, "not a regular file")


def test_insecure_http_is_accepted_only_when_asked_and_then_warned(world: World) -> None:
    lock = copy.deepcopy(world.lock)
    field(CONDA, "url", "http://127.0.0.1:9/provtest-tool-1.0-0.tar.bz2")(lock)
    path = _write_lock(world, "http-allowed", lock)
    done = world.e2e.run(*_apply_lock(world, path, "--dry-run", "--allow-insecure-http"))
    assert done.returncode == 0, done.stderr
    assert "warning: --allow-insecure-http" in done.stderr


# ----------------------------------------------------------------------------- hostile packages


def _tar_bz2(members: dict[str, bytes], links: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """A conda archive: `links` (name -> (tar member type, target)) first, then `members` (files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for name, (kind, target) in (links or {}).items():
            link = tarfile.TarInfo(name)
            link.type, link.linkname = kind, target
            tar.addfile(link)
        index = {
            "name": "provtest-tool",
            "version": "1.0",
            "build": "0",
            "build_number": 0,
            "depends": [],
            "subdir": "linux-64",
        }
        for name, data in {"info/index.json": json.dumps(index).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_artifact(world: World, name: str, index: int, data: bytes, file_name: str) -> Path:
    folder = world.tmp / "hostile-artifacts" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_bytes(data)
    lock = copy.deepcopy(world.lock)
    entry = lock["package"][index]
    entry["url"] = builders.file_uri(folder / file_name)
    entry["hash"] = {"sha256": hashlib.sha256(data).hexdigest()}
    if entry["manager"] == "conda":
        entry["hash"]["md5"] = hashlib.md5(data).hexdigest()
    return _write_lock(world, name, lock)


PACKAGE_CASES = [
    pytest.param(
        CONDA,
        _tar_bz2({"/tmp/provtest-absolute.txt": b"x"}),
        "provtest-tool-1.0-0.tar.bz2",
        "would be written outside",
        id="conda-absolute-member",
    ),
    pytest.param(
        CONDA,
        _tar_bz2({"../../escaped.txt": b"x"}),
        "provtest-tool-1.0-0.tar.bz2",
        "would be written outside",
        id="conda-dotdot-member",
    ),
    pytest.param(
        CONDA,
        _tar_bz2({"share/../../../escaped.txt": b"x"}),
        "provtest-tool-1.0-0.tar.bz2",
        "would be written outside",
        id="conda-inner-dotdot",
    ),
    pytest.param(
        CONDA,
        _tar_bz2({"share/evil/passwd": b"x"}, {"share/evil": (tarfile.SYMTYPE, "/etc")}),
        "provtest-tool-1.0-0.tar.bz2",
        "is written through the link 'share/evil'",
        id="conda-through-symlink",
    ),
    pytest.param(
        CONDA,
        _tar_bz2({}, {"share/passwd": (tarfile.LNKTYPE, "../../etc/passwd")}),
        "provtest-tool-1.0-0.tar.bz2",
        "is a hard link to",
        id="conda-hardlink-outside",
    ),
    pytest.param(
        CONDA,
        b"BZh9 this is not bzip2 at all",
        "provtest-tool-1.0-0.tar.bz2",
        "not a readable archive",
        id="conda-not-an-archive",
    ),
    pytest.param(
        CONDA,
        _wheel({"../metadata.json": b"{}"}),
        "provtest-tool-1.0-0.conda",
        "would be written outside",
        id="dot-conda-dotdot",
    ),
    pytest.param(
        PIP,
        _wheel({"/etc/provtest.pth": b"x"}),
        "provtest_hello-1.0-py3-none-any.whl",
        "would be written outside",
        id="wheel-absolute-member",
    ),
    pytest.param(
        PIP,
        _wheel({"../../provtest.pth": b"x"}),
        "provtest_hello-1.0-py3-none-any.whl",
        "would be written outside",
        id="wheel-dotdot-member",
    ),
    pytest.param(
        PIP,
        _wheel({"C:\\\\windows\\\\x.dll": b"x"}),
        "provtest_hello-1.0-py3-none-any.whl",
        "would be written outside",
        id="wheel-drive-member",
    ),
    pytest.param(
        PIP, b"PK not a zip", "provtest_hello-1.0-py3-none-any.whl", "not a readable archive", id="wheel-not-a-zip"
    ),
]


@pytest.mark.parametrize(("index", "data", "file_name", "fragment"), PACKAGE_CASES)
def test_hostile_archive_is_refused_before_the_installer_sees_it(
    world: World, index: int, data: bytes, file_name: str, fragment: str, request: pytest.FixtureRequest
) -> None:
    path = _with_artifact(world, request.node.callspec.id, index, data, file_name)
    refused(world, _apply_lock(world, path), 5, fragment)


def test_an_artifact_that_does_not_match_its_hash_is_refused(world: World) -> None:
    lock = copy.deepcopy(world.lock)
    lock["package"][CONDA]["hash"]["sha256"] = "0" * 64
    path = _write_lock(world, "wrong-hash", lock)
    refused(world, _apply_lock(world, path), 5, "hash mismatch")


def test_tampered_artifact_cache_is_discarded_and_fetched_again(world: World, tmp_path: Path) -> None:
    cache = world.tmp / "cache" / "provision" / "artifacts"
    tool = world.lock["package"][CONDA]
    cached = cache / tool["hash"]["sha256"] / tool["url"].rsplit("/", 1)[-1]
    assert cached.is_file(), "the world's first apply cached it"
    cached.write_bytes(_tar_bz2({"share/provtest/tool.txt": b"EVIL\n"}))
    prefix = tmp_path / "fresh"
    done = world.e2e.run(
        "apply", "--lockfile", str(world.e2e.root / "envs/e2e/conda-lock.yml"), "--prefix", str(prefix), "--no-verify"
    )
    assert done.returncode == 0, done.stderr
    assert "cached copy failed its hash check" in done.stderr
    assert (prefix / "share/provtest/tool.txt").read_text() == "tool 1\n"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tool["hash"]["sha256"]


def test_edited_extracted_package_cache_is_never_linked(world: World, tmp_path: Path) -> None:
    # rattler's extracted packages live only in the apply's private staging folder; a cache left
    # from older versions (or planted) is not read.
    planted = world.tmp / "cache" / "provision" / "rattler" / "pkgs" / "provtest-tool-1.0-0" / "share" / "provtest"
    planted.mkdir(parents=True, exist_ok=True)
    (planted / "tool.txt").write_text("EVIL\n")
    prefix = tmp_path / "fresh"
    done = world.e2e.run(
        "apply", "--lockfile", str(world.e2e.root / "envs/e2e/conda-lock.yml"), "--prefix", str(prefix), "--no-verify"
    )
    assert done.returncode == 0, done.stderr
    assert (prefix / "share/provtest/tool.txt").read_text() == "tool 1\n"
    assert not list((world.tmp / "cache" / "provision" / "artifacts").glob(".staging-*")), "staging is removed"


# ----------------------------------------------------------------------------- prefixes and remove


def _prefix_cases() -> list[Any]:
    return [
        pytest.param(lambda w: "/", "root of the filesystem", id="root"),
        pytest.param(lambda w: str(w.tmp / "fakehome"), "home folder", id="home"),
        pytest.param(lambda w: str(w.tmp / "home"), "provision's home", id="provision-home"),
        pytest.param(lambda w: str(w.tmp / "home" / "envs"), "every environment", id="envs-dir"),
        pytest.param(lambda w: str(w.tmp / "home" / "state" / "x"), "state folder", id="state-dir"),
        pytest.param(lambda w: str(w.e2e.root), "the project", id="project"),
        pytest.param(lambda w: str(w.tmp), "it is or contains", id="above-project"),
        pytest.param(lambda w: str(w.sentinel), "provision did not create", id="user-folder"),
        pytest.param(lambda w: str(w.sentinel / "data"), "provision did not create", id="user-subfolder"),
        pytest.param(
            lambda w: str(w.tmp / "home" / "envs" / "e2e" / ".." / ".." / ".."),
            "it is or contains",
            id="dotdot-above-project",
        ),
    ]


@pytest.mark.parametrize(("make", "fragment"), _prefix_cases())
@pytest.mark.parametrize("command", ["apply", "plan"])
def test_apply_and_plan_refuse_a_prefix_provision_may_not_touch(
    world: World, make: Callable[[World], str], fragment: str, command: str
) -> None:
    (world.tmp / "fakehome").mkdir(exist_ok=True)
    args = [command, "e2e", "--prefix", make(world)] + (["--no-verify"] if command == "apply" else [])
    refused(world, args, 1, fragment, extra={"HOME": str(world.tmp / "fakehome")})


def test_symlink_to_a_user_folder_is_refused(world: World) -> None:
    link = world.tmp / "link-to-user"
    if not link.is_symlink():
        link.symlink_to(world.sentinel)
    refused(world, ["apply", "e2e", "--prefix", str(link), "--no-verify"], 1, "provision did not create")


def test_adopt_takes_only_an_environment_of_the_same_kind(world: World) -> None:
    refused(
        world,
        ["apply", "e2e", "--prefix", str(world.sentinel), "--adopt", "--no-verify"],
        1,
        "--adopt takes only a conda environment",
    )


def test_a_package_shipping_the_marker_does_not_make_remove_delete_a_folder(world: World) -> None:
    fake = world.sentinel / ".provision"
    fake.mkdir(exist_ok=True)
    (fake / "created-by-provision").write_text("e2e\n")
    try:
        refused(world, ["remove", "e2e", "--prefix", str(world.sentinel)], 1, "not created by provision")
    finally:
        (fake / "created-by-provision").unlink()
        fake.rmdir()


@pytest.mark.parametrize("name", [".", "..", "", "a/b", "~", "x\ny", "../envs"])
def test_remove_validates_the_name(world: World, name: str) -> None:
    refused(world, ["remove", name], 1, "not a usable environment name")


def test_a_lockfile_named_conda_lock_in_a_folder_without_a_name_is_refused(world: World, tmp_path: Path) -> None:
    # `cd somewhere && apply --lockfile conda-lock.yml` once targeted $PROVISION_HOME/envs itself.
    path = _write_lock(world, "..bad", copy.deepcopy(world.lock))
    refused(world, ["apply", "--lockfile", str(path), "--no-verify"], 1, "not a usable environment name")


def test_the_prefix_lock_is_the_same_through_a_symlink(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from provision.apply.prefix_lock import lock_file

    monkeypatch.setenv("PROVISION_HOME", str(world.tmp / "home"))
    link = world.tmp / "link-to-env"
    if not link.is_symlink():
        link.symlink_to(world.e2e.prefix)
    assert lock_file(link) == lock_file(world.e2e.prefix)
    assert lock_file(world.e2e.prefix / "x" / "..") == lock_file(world.e2e.prefix)


# ----------------------------------------------------------------------------- hostile profiles

# Hand-made hostile manifests for `init --from`: refused in one line, no profile written.
MANIFEST_CASES: list[Any] = [
    pytest.param("requirements.txt", "--index-url https://user:s3cret@pypi.example.org/simple\nnumpy\n",
                 "carries credentials", id="credentials-in-index"),
    pytest.param("pixi.toml", "[workspace]\nchannels = []\nplatforms = []\n[dependencies]\nx = " + "[" * 5000
                 + "]" * 5000 + "\n", "nested too deeply", id="toml-deep-nesting"),
    pytest.param("environment.yml", "channels: conda-forge\ndependencies: [numpy]\n", "must be a list of strings",
                 id="env-channels-string"),
    pytest.param("pixi.toml", "[workspace]\nchannels = []\nplatforms = []\n[dependencies]\nx = 5\n",
                 "must be a string", id="pixi-number-spec"),
    pytest.param("thing.bin", "\x00\x01binary", "not a file init reads", id="binary"),
    pytest.param("pixi.toml", "[workspace\n", "not valid TOML", id="toml-syntax"),
]


@pytest.mark.parametrize(("name", "text", "fragment"), MANIFEST_CASES)
def test_hostile_manifest_is_refused_by_init(world: World, name: str, text: str, fragment: str) -> None:
    source = world.tmp / "manifests" / name
    source.parent.mkdir(exist_ok=True)
    source.write_text(text)
    refused(world, ["init", "imported", "--from", str(source)], 1, fragment)
    source.unlink()


def test_init_notes_what_it_must_not_copy_into_a_profile(world: World) -> None:
    """Folders outside the project are never made editable, plain http is said; an over-long name is refused."""
    source = world.tmp / "manifests" / "environment.yml"
    source.parent.mkdir(exist_ok=True)
    source.write_text("channels: [http://mirror.example.org/conda-forge]\ndependencies:\n  - numpy\n  - pip:\n"
                      "    - -e ../../../../etc\n    - -e /etc\n    - requests\n")  # fmt: skip
    done = world.e2e.run("init", "imported", "--from", str(source))
    assert done.returncode == 0, done.stderr
    written = world.e2e.root / "profiles" / "imported.yaml"
    profile = yaml.safe_load(written.read_text())
    written.unlink()
    assert "editable" not in profile["pypi"]
    assert "editable '../../../../etc' left out" in done.stderr and "editable '/etc' left out" in done.stderr
    assert "http://mirror.example.org/conda-forge is plain http" in done.stderr
    long_name = world.e2e.run("init", "x" * 300, "--from", str(source))
    assert long_name.returncode == 2 and "is not a profile name" in long_name.stderr
    assert "internal error" not in long_name.stderr
    source.unlink()


PROFILE_CASES = [
    ("env-name-newline", 'env:\n  "FOO\\n": "1"\n', "control character"),
    ("env-name-injection", 'env:\n  "FOO\\necho pwned": "1"\n', "control character"),
    ("env-value-newline", 'env:\n  FOO: "1\\necho pwned"\n', "control character"),
    ("env-value-escape", 'env:\n  FOO: "\\e[31m"\n', "control character"),
    ("env-value-cr", 'env:\n  FOO: "a\\rb"\n', "control character"),
    ("brew-newline", 'brew:\n  formulae: ["git\\nsystem(1)"]\n', "control character"),
    ("brew-tap-newline", 'brew:\n  taps: ["a/b\\n"]\n', "control character"),
    ("nix-newline", 'nix: ["uv\\n"]\n', "control character"),
    ("pypi-newline", 'pypi:\n  packages: ["numpy\\n-r /etc/hostname"]\n', "control character"),
    ("conda-newline", 'conda: ["numpy\\n"]\n', "control character"),
    ("channel-newline", 'channels: ["conda-forge\\n"]\n', "control character"),
    ("url-newline", 'pypi:\n  index_url: "https://x/\\n"\n', "control character"),
    (
        "laughs",
        'x-a: &a ["l","l","l","l","l","l","l","l","l"]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        "x-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "aliases",
    ),
    ("duplicate-key", "python: '3.11'\n", "duplicate key"),
]


@pytest.mark.parametrize(("name", "extra", "fragment"), PROFILE_CASES, ids=[c[0] for c in PROFILE_CASES])
def test_hostile_profile_is_refused_in_one_line(world: World, name: str, extra: str, fragment: str) -> None:
    root = world.tmp / "hostile-profiles" / name
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    channels = "" if extra.startswith("channels:") else "channels: [conda-forge]\n"
    (root / "profiles" / "evil.yaml").write_text(
        "name: evil\nplatforms: [linux-64]\npython: '3.11'\n" + channels + extra
    )
    for args in (["show", "evil"], ["render", "evil"], ["apply", "evil", "--dry-run"]):
        refused(world, ["--root", str(root), *args], 1, fragment)


# ----------------------------------------------------------------------------- hostile facts folders


def _facts(world: World, name: str, files: dict[str, bytes | str]) -> Path:
    folder = world.tmp / "hostile-facts" / name
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        path = folder / file_name
        if isinstance(data, str) and data.startswith("->"):
            if not path.is_symlink():
                path.symlink_to(data[2:])
        elif data == "fifo":
            if not path.exists():
                os.mkfifo(path)
        elif data == "dir":
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


FACTS_REFUSED = [
    ("fifo", {"sysctl.txt": "fifo"}, "not a regular file"),
    ("dev-zero", {"sysctl.txt": "->/dev/zero"}, "not a regular file"),
    ("folder", {"sysctl.txt": "dir"}, "not a regular file"),
    ("huge", {"sysctl.txt": "hw.ncpu: 8\n" * 200_000}, "larger than"),
    ("python-not-json", {"python.txt": "{not json"}, "python.txt"),
    ("python-a-list", {"python.txt": "[1, 2]"}, "python.txt"),
    ("python-a-number", {"python.txt": "3"}, "python.txt"),
    ("disk-not-json", {"disk.txt": "free: lots"}, "disk.txt"),
    ("environment-list", {"environment.txt": '["PYTHONPATH"]'}, "environment.txt"),
]
FACTS_TOLERATED = [
    ("not-utf8", {"sysctl.txt": b"hw.ncpu: \xff\xfe8\nkern.osproductversion: 14\xff\n"}),
    ("version-garbage", {"sysctl.txt": "kern.osproductversion: fourteen\n"}),
    ("digits-overflow", {"sysctl.txt": "hw.memsize: " + "9" * 5000 + "\n"}),
    ("libc-shapes", {"python.txt": '{"system": "Linux", "machine": "x86_64", "libc": "glibc"}'}),
    ("profiler-shapes", {"system_profiler-hardware.txt": '{"SPHardwareDataType": "x"}'}),
    ("swap-garbage", {"sysctl.txt": "vm.swapusage: total = lots used = some\n"}),
    ("nvidia-garbage", {"nvidia-smi.txt": "CUDA Version: ..\n", "nvidia-smi-query.txt": "a,b,c,d\n,,\n"}),
]


@pytest.mark.parametrize(("name", "files", "fragment"), FACTS_REFUSED, ids=[c[0] for c in FACTS_REFUSED])
def test_hostile_facts_file_is_named_in_one_line(world: World, name: str, files: dict, fragment: str) -> None:
    folder = _facts(world, name, files)
    for args in (["doctor", "--facts", str(folder)], ["plan", "e2e", "--facts", str(folder)]):
        refused(world, args, 1, fragment)


@pytest.mark.parametrize(("name", "files"), FACTS_TOLERATED, ids=[c[0] for c in FACTS_TOLERATED])
def test_odd_facts_are_read_without_crashing(world: World, name: str, files: dict) -> None:
    folder = _facts(world, name, files)
    done = world.e2e.run("doctor", "--facts", str(folder))
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
