"""`status --files` proves the whole environment: every file in the prefix belongs to a package record,
to provision's own files (hashed into the stamp) or to what interpreters write; anything planted is named,
start-up code is called out, and plain `status` reads the records instead of trusting the fingerprint.
Real applies (tests/world.py): a file:// conda channel of tiny packages and local wheels."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .world import E2E


@pytest.fixture
def applied(tmp_path: Path) -> E2E:
    world = E2E(tmp_path)
    assert world.run("lock", "e2e").returncode == 0
    done = world.run("apply", "e2e", "--no-verify")
    assert done.returncode == 0, done.stderr
    checked = world.run("status", "e2e", "--files")
    assert checked.returncode == 0, checked.stdout + checked.stderr  # a fresh apply leaves nothing unaccounted
    assert "every file checked" in checked.stdout
    return world


def _site(world: E2E) -> Path:
    return next(world.prefix.glob("lib/python3*/site-packages"))


def test_planted_files_are_named_and_startup_code_called_out(applied: E2E) -> None:
    # What an interpreter writes for a listed source (its __pycache__) is fine.
    assert applied.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "1.0"
    site = _site(applied)
    (site / "zzz-evil.pth").write_text("import os; os.system('touch /tmp/pwned')\n")
    (site / "sitecustomize.py").write_text("print('hi')\n")
    (site / "stray").mkdir()
    (site / "stray" / "__init__.py").write_text("")
    tool = applied.prefix / "bin" / "newtool"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    (site / "__pycache__").mkdir(exist_ok=True)
    (site / "__pycache__" / "anything.cpython-311.pyc").write_bytes(b"\0")  # bytecode of no source: named

    plain = applied.run("status", "e2e")
    assert plain.returncode == 0, plain.stdout  # plain status compares packages only; --files proves the rest
    result = applied.run("status", "e2e", "--files", "--json")
    assert result.returncode == 1
    lines = {d["name"]: d["line"] for d in json.loads(result.stdout)["drift"]}
    relative = site.relative_to(applied.prefix).as_posix()
    assert set(lines) == {f"{relative}/zzz-evil.pth", f"{relative}/sitecustomize.py",
                          f"{relative}/stray/__init__.py", "bin/newtool",
                          f"{relative}/__pycache__/anything.cpython-311.pyc"}  # fmt: skip
    assert lines[f"{relative}/zzz-evil.pth"].endswith(
        "a file no package record lists and provision did not write; it runs code at every interpreter start (prefix)"
    )
    assert "runs code at every interpreter start" in lines[f"{relative}/sitecustomize.py"]
    assert "runs code" not in lines["bin/newtool"]
    # apply never deletes what it did not make: it reports nothing to repair and leaves the files.
    again = applied.run("apply", "e2e", "--no-verify")
    assert again.returncode == 0 and (site / "zzz-evil.pth").exists()


def test_own_files_are_held_to_their_recorded_hash_and_target(applied: E2E) -> None:
    python = applied.prefix / "bin" / "python"
    assert python.is_symlink()
    activation = applied.prefix / "etc/conda/activate.d/provision-env.sh"
    info = activation.stat()
    text = activation.read_text()
    activation.write_text(text.replace("export PROVTEST=yes", "export PROVTEST=no!"))  # same length
    os.utime(activation, ns=(info.st_atime_ns, info.st_mtime_ns))  # size and time kept: only a hash sees it
    python.unlink()
    python.symlink_to("/bin/sh")
    result = applied.run("status", "e2e", "--files")
    assert result.returncode == 1
    assert "etc/conda/activate.d/provision-env.sh: changed since the last apply (sha256:" in result.stdout
    # bin/python is listed by the conda python package here: its target is the one the stamp recorded.
    assert "bin/python: changed since the last apply (points to /bin/sh, was points to " in result.stdout


def test_a_fifo_in_place_of_an_own_file_is_named_not_waited_on(applied: E2E) -> None:
    """Hostile: a named pipe planted where provision's activation script was. Reading it would block for ever;
    it is named as changed, and the status returns."""
    activation = applied.prefix / "etc/conda/activate.d/provision-env.sh"
    activation.unlink()
    os.mkfifo(activation)
    result = applied.run("status", "e2e", "--files", process=True, timeout=60)  # a hang fails, never blocks
    assert result.returncode == 1
    assert "etc/conda/activate.d/provision-env.sh: changed since the last apply (not a regular file, was sha256:" in (
        result.stdout
    )


def test_plain_status_reads_the_records_not_the_fingerprint(applied: E2E) -> None:
    """A conda-meta record edited to another version with its size and time kept: the quick fingerprint (names,
    sizes, times) cannot see it; status reads the record."""
    record = next((applied.prefix / "conda-meta").glob("provtest-tool-1.0-0.json"))
    info = record.stat()
    record.write_text(record.read_text().replace('"version": "1.0"', '"version": "9.0"'))
    assert record.stat().st_size == info.st_size
    os.utime(record, ns=(info.st_atime_ns, info.st_mtime_ns))
    result = applied.run("status", "e2e")
    assert result.returncode == 1
    assert "provtest-tool 9.0-0 installed, the lock has 1.0-0 (conda)" in result.stdout


def test_forged_bytecode_for_a_listed_source_is_named(applied: E2E) -> None:
    """A .pyc carrying the source's own mtime and size in its header is what Python loads instead of the
    source (hostile, made here): the environment's own interpreter compiles the source and compares."""
    site = _site(applied)
    source = site / "provtest_hello.py"
    forge = (
        "import importlib.util, marshal, sys; from pathlib import Path\n"
        f"source = Path({str(source)!r}); info = source.stat()\n"
        "cache = Path(importlib.util.cache_from_source(str(source))); cache.parent.mkdir(exist_ok=True)\n"
        "header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, 'little') + int(info.st_mtime).to_bytes(4, 'little')"
        " + (info.st_size & 0xFFFFFFFF).to_bytes(4, 'little')\n"
        "cache.write_bytes(header + marshal.dumps(compile(\"VERSION = 'PWNED'\", str(source), 'exec')))\n"
    )
    assert applied.in_env(forge) == ""
    assert applied.in_env("import provtest_hello; print(provtest_hello.VERSION)") == "PWNED"  # it does run
    result = applied.run("status", "e2e", "--files")
    assert result.returncode == 1
    assert "provtest_hello.cpython-" in result.stdout
    assert "bytecode that is not what " in result.stdout and "provtest_hello.py compiles to" in result.stdout
