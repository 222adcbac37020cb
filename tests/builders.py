"""Build tiny, real conda packages, a file:// channel and pure-Python wheels for end-to-end tests."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile
from pathlib import Path

SUBDIR = "linux-64"


def _add(tar: tarfile.TarFile, name: str, data: bytes, symlink_to: str | None = None) -> None:
    info = tarfile.TarInfo(name)
    if symlink_to is not None:
        info.type, info.linkname = tarfile.SYMTYPE, symlink_to
        tar.addfile(info)
        return
    info.size, info.mode = len(data), 0o755 if name.startswith("bin/") else 0o644
    tar.addfile(info, io.BytesIO(data))


def conda_package(
    folder: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    depends: list[str] | None = None,
    links: dict[str, str] | None = None,
) -> dict:
    """Write <name>-<version>-0.tar.bz2 into `folder` and return its repodata record."""
    build = "0"
    index = {"name": name, "version": version, "build": build, "build_number": 0, "depends": depends or [],
             "subdir": SUBDIR, "platform": "linux", "arch": "x86_64"}  # fmt: skip
    paths = [
        {"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(), "size_in_bytes": len(d)}
        for p, d in sorted(files.items())
    ] + [{"_path": p, "path_type": "softlink"} for p in sorted(links or {})]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        _add(tar, "info/index.json", json.dumps(index).encode())
        _add(tar, "info/paths.json", json.dumps({"paths": paths, "paths_version": 1}).encode())
        _add(tar, "info/files", "\n".join(sorted([*files, *(links or {})])).encode() + b"\n")
        for path, data in sorted(files.items()):
            _add(tar, path, data)
        for path, target in sorted((links or {}).items()):
            _add(tar, path, b"", symlink_to=target)
    data = buffer.getvalue()
    file_name = f"{name}-{version}-{build}.tar.bz2"
    (folder / file_name).write_bytes(data)
    return file_name, {
        **index, "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "timestamp": 1_700_000_000_000,
    }  # fmt: skip


def python_package(folder: Path) -> tuple[str, dict]:
    """A 'python' conda package that makes the prefix a venv of this test's own interpreter.

    A real CPython package is 30 MB; this one links bin/python to the running interpreter and
    adds pyvenv.cfg, which is enough for uv to install wheels into the prefix."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    version = ".".join(map(str, sys.version_info[:3]))
    cfg = f"home = {base.parent}\ninclude-system-site-packages = false\nversion = {version}\n"
    return conda_package(folder, "python", version, {"pyvenv.cfg": cfg.encode()}, links={"bin/python": str(base)})


def channel(root: Path, packages: list[tuple[str, str, dict[str, bytes], list[str]]]) -> Path:
    """A file:// conda channel at `root` holding `packages` plus the venv-shaped python."""
    subdir = root / SUBDIR
    subdir.mkdir(parents=True, exist_ok=True)
    (root / "noarch").mkdir(exist_ok=True)
    records = dict([python_package(subdir)])
    for name, version, files, depends in packages:
        file_name, record = conda_package(subdir, name, version, files, depends)
        records[file_name] = record
    (subdir / "repodata.json").write_text(json.dumps({"info": {"subdir": SUBDIR}, "packages": records}))
    (root / "noarch" / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {}}))
    return root


def wheel(folder: Path, name: str, version: str, source: str) -> Path:
    """A pure-Python wheel with one module, `<name>.py`, built from `source`."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}"
    files = {
        f"{module}.py": source.encode(),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: provision-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{dist}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_zip, data in files.items():
            archive.writestr(name_in_zip, data)
    return path


def file_uri(path: Path) -> str:
    return path.resolve().as_uri()


def quiet_env(tmp: Path) -> dict[str, str]:
    """Environment for subprocess runs: own caches and environment home, nothing from the user."""
    return {**os.environ, "PROVISION_HOME": str(tmp / "home"), "XDG_CACHE_HOME": str(tmp / "cache"),
            "UV_CACHE_DIR": str(tmp / "uv-cache"), "HOME": str(tmp / "home-folder")}  # fmt: skip
