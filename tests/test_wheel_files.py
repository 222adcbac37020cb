"""The install-time check of what uv linked into a prefix, against the RECORD inside each verified wheel
(provision/apply/wheel_files.py), on wheels and installed trees made here to the wheel spec's letter: RECORD as
CSV (quoted paths), the hex digests uv_build wrote before 0.8.13, a path two locked wheels ship, `.data` schemes,
installer files, and an older Python's site-packages left beside the environment's own. End to end, with uv and
a planted cache, in tests/test_drift.py."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from provision.apply.wheel_files import differing_files, read_records
from provision.lock.records import LockedPackage

SITE = "lib/python3.12/site-packages"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel(folder: Path, name: str, files: dict[str, bytes], digest: Callable[[bytes], str] = b64,
          extra_rows: tuple[list[str], ...] = ()) -> Path:  # fmt: skip
    """A wheel whose RECORD (written by the csv module, as installers do) lists `files` with `digest`."""
    record = f"{name}-1.0.dist-info/RECORD"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for path, data in files.items():
        writer.writerow([path, f"sha256={digest(data)}", len(data)])
    for row in extra_rows:
        writer.writerow(row)
    writer.writerow([record, "", ""])
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(record, text.getvalue())
    return path


def install(prefix: Path, files: dict[str, bytes], site: str = SITE) -> None:
    """What an installer leaves: each file at its place relative to site-packages."""
    for relative, data in files.items():
        target = (prefix / site / relative).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def locked(name: str) -> LockedPackage:
    return LockedPackage(name, "1.0", "pip", "linux-64", f"https://example.invalid/{name}-1.0-py3-none-any.whl",
                         "0" * 64)  # type: ignore[arg-type]


def test_a_quoted_path_a_hex_digest_and_installer_files_are_read_as_written(tmp_path: Path) -> None:
    files = {"odd/a,b.txt": b"comma\n", 'odd/q"uote.txt': b"quote\n", "odd/__init__.py": b"",
             "odd-1.0.dist-info/METADATA": b"Name: odd\n", "odd-1.0.dist-info/INSTALLER": b"pip\n"}  # fmt: skip
    made = wheel(tmp_path, "odd", files)
    (tmp_path / "hex").mkdir()
    hexed = wheel(tmp_path / "hex", "odd", files, digest=lambda data: hashlib.sha256(data).hexdigest())
    prefix = tmp_path / "env"
    install(prefix, {**files, "odd-1.0.dist-info/INSTALLER": b"uv\n"})  # the installer writes its own name
    assert differing_files(prefix, read_records([(locked("odd"), made)]), {"odd"}, "3.12") == {}
    assert differing_files(prefix, read_records([(locked("odd"), hexed)]), {"odd"}, "3.12") == {}
    (prefix / SITE / "odd" / "a,b.txt").write_bytes(b"changed\n")
    assert differing_files(prefix, read_records([(locked("odd"), made)]), {"odd"}, "3.12") == {"odd": ["odd/a,b.txt"]}


def test_a_path_two_locked_wheels_ship_may_hold_either(tmp_path: Path) -> None:
    """opencv-python and opencv-python-headless both ship cv2/: whichever was installed last wins a shared path."""
    gui = wheel(tmp_path, "gui", {"cv2/version.py": b"headless = False\n", "cv2/gui.py": b""})
    (tmp_path / "h").mkdir()
    headless = wheel(tmp_path / "h", "headless", {"cv2/version.py": b"headless = True\n"})
    prefix = tmp_path / "env"
    install(prefix, {"cv2/version.py": b"headless = True\n", "cv2/gui.py": b""})
    (prefix / SITE / "gui-1.0.dist-info").mkdir()
    (prefix / SITE / "headless-1.0.dist-info").mkdir()
    both = [(locked("gui"), gui), (locked("headless"), headless)]
    assert differing_files(prefix, read_records(both), {"gui", "headless"}, "3.12") == {}
    (prefix / SITE / "cv2" / "version.py").write_bytes(b"neither\n")
    assert differing_files(prefix, read_records(both), {"gui"}, "3.12") == {"gui": ["cv2/version.py"]}


def test_data_schemes_land_where_installers_put_them(tmp_path: Path) -> None:
    files = {"tool/__init__.py": b"", "tool-1.0.data/purelib/tool_extra.py": b"X = 1\n",
             "tool-1.0.data/data/share/tool/readme.txt": b"hi\n", "tool-1.0.data/scripts/tool": b"#!python\nrun()\n",
             "tool-1.0.data/scripts/helper.sh": b"#!/bin/sh\necho hi\n",
             "tool-1.0.dist-info/METADATA": b"Name: tool\n"}  # fmt: skip
    made = wheel(tmp_path, "tool", files)
    prefix = tmp_path / "env"
    install(prefix, {"tool/__init__.py": b"", "tool_extra.py": b"X = 1\n",
                     "tool-1.0.dist-info/METADATA": b"Name: tool\n"})  # fmt: skip
    (prefix / "share" / "tool").mkdir(parents=True)
    (prefix / "share" / "tool" / "readme.txt").write_bytes(b"hi\n")
    (prefix / "bin").mkdir()
    (prefix / "bin" / "helper.sh").write_bytes(b"#!/bin/sh\necho hi\n")  # no `#!python`: installed as it is
    # `#!python` is the installer's to rewrite: to the interpreter, or (a long path) uv's /bin/sh prologue
    python = f"{prefix}/bin/python"
    for first in (f"#!{python}\n", f"#!/bin/sh\n'''exec' '{python}' \"$0\" \"$@\"\n' '''\n"):
        (prefix / "bin" / "tool").write_bytes(first.encode() + b"run()\n")
        assert differing_files(prefix, read_records([(locked("tool"), made)]), {"tool"}, "3.12") == {}
    # code put after the installer's line, a changed data file, a changed plain script: each named
    (prefix / "bin" / "tool").write_bytes(f"#!{python}\nimport os\nrun()\n".encode())
    (prefix / "share" / "tool" / "readme.txt").write_bytes(b"changed\n")
    (prefix / "bin" / "helper.sh").write_bytes(b"#!/bin/sh\necho planted\n")
    found = differing_files(prefix, read_records([(locked("tool"), made)]), {"tool"}, "3.12")
    assert {name: sorted(files) for name, files in found.items()} == {
        "tool": ["../../../bin/helper.sh", "../../../bin/tool", "../../../share/tool/readme.txt"]}


def test_the_environments_own_site_packages_is_checked_not_an_older_one_beside_it(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": b"VERSION = 1\n", "pkg-1.0.dist-info/METADATA": b"Name: pkg\n"}
    made = wheel(tmp_path, "pkg", files)
    prefix = tmp_path / "env"
    install(prefix, {"pkg/__init__.py": b"OLD = True\n", "pkg-1.0.dist-info/METADATA": b"Name: pkg\n"},
            site="lib/python3.11/site-packages")  # left by the environment's previous Python
    assert differing_files(prefix, read_records([(locked("pkg"), made)]), {"pkg"}, "3.12") == {
        "pkg": ["pkg-1.0.dist-info/ (not installed)"]}
    install(prefix, files)
    assert differing_files(prefix, read_records([(locked("pkg"), made)]), {"pkg"}, "3.12.7") == {}


def test_a_hostile_record_reads_nothing_outside_the_prefix_and_never_waits(tmp_path: Path) -> None:
    import os

    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret\n")
    fifo = tmp_path / "env" / SITE / "pkg" / "pipe"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    rows = (["../../../../secret.txt", f"sha256={b64(b'secret' + bytes([10]))}", "7"],
            ["pkg/pipe", f"sha256={b64(b'')}", "0"])  # fmt: skip
    made = wheel(tmp_path, "pkg", {"pkg/__init__.py": b""}, extra_rows=rows)
    install(tmp_path / "env", {"pkg/__init__.py": b""})
    (tmp_path / "env" / SITE / "pkg-1.0.dist-info").mkdir()
    found = differing_files(tmp_path / "env", read_records([(locked("pkg"), made)]), {"pkg"}, "3.12")
    assert found == {"pkg": ["../../../../secret.txt", "pkg/pipe"]}


def test_a_wheel_whose_record_zipfile_cannot_read_is_named_not_an_internal_error(tmp_path: Path) -> None:
    """Hand-made hostile wheels (their hash would match a hostile lock): the RECORD stored with an unknown
    compression method, flagged as encrypted, or deflated and then corrupted. Each is the package's one problem."""
    import struct

    def patched(name: str, field: int, value: int) -> Path:
        """The wheel with a 2-byte field of every local and central header set to `value`."""
        made = wheel(tmp_path, name, {f"{name}/__init__.py": b"x = 1\n"})
        data = bytearray(made.read_bytes())
        for signature, offset in ((b"PK\x03\x04", field), (b"PK\x01\x02", field + 2)):
            at = data.find(signature)
            while at >= 0:
                data[at + offset : at + offset + 2] = struct.pack("<H", value)
                at = data.find(signature, at + 4)
        made.write_bytes(bytes(data))
        return made

    def corrupt(name: str) -> Path:
        made = tmp_path / f"{name}-1.0-py3-none-any.whl"
        record = f"{name}-1.0.dist-info/RECORD"
        with zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(record, "a" * 4096)
        data = bytearray(made.read_bytes())
        start = 30 + len(record)  # the deflate stream, past the local header and the name
        data[start : start + 8] = b"\xff" * 8
        made.write_bytes(bytes(data))
        return made

    for name, made in (("unknown", patched("unknown", 8, 99)), ("encrypted", patched("encrypted", 6, 1)),
                       ("corrupt", corrupt("corrupt"))):  # fmt: skip
        found = differing_files(tmp_path / "env", read_records([(locked(name), made)]), {name}, "3.12")
        assert found == {name: [f"{made.name}: its RECORD cannot be read"]}, name
