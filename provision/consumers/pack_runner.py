"""The `__main__.py` of a pack, so that a node with only python3 runs `python3 PACK apply ...`.

It is copied into every pack verbatim and must need nothing but the standard library. It checks
the interpreter and platform against what the pack was made for, installs the packed wheels of
provision's dependencies (each checked against its sha256) with the packed uv into a private
folder that lives as long as the command, adds provision's own packed code, and hands the command
line to provision, adding `--pack THIS_FILE` to the commands that take one.

It also holds what provision itself uses when it opens a pack, so each rule is written once: the
check against a checksum or signature from outside the pack (the pack's own manifest catches only
accidents: whoever edits a pack can edit its manifest too), the bounds checked before anything is
unpacked, the streamed extraction that checks each hash as it writes, and the private folders that
are removed on exit, on SIGTERM too, or by the next run when a killed one left them.

`python3 PACK` runs the `__main__.py` inside the pack: a pack edited on purpose can carry a runner
that checks nothing. Where that matters, check from outside (`sha256sum -c PACK.sha256`, or an
installed provision's `apply --pack`) before running it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

RUNNER = "__main__.py"  # this file's name inside a pack
MANIFEST = "bootstrap/manifest.json"
DIST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
WHEEL_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!-]*\.whl")
SHA256 = re.compile(r"[0-9a-f]{64}")
CODE = "bootstrap/code/"
WHEELS = "bootstrap/wheels/"
MANIFEST_SCHEMA = 2  # 1 carried one Python's wheels; 2 maps each Python to its own
TAKES_PACK = ("apply", "verify", "status", "plan")  # the commands whose target a pack can be
PLATFORMS = {("linux", "x86_64"): "linux-64", ("linux", "aarch64"): "linux-aarch64", ("darwin", "arm64"): "osx-arm64"}
# Taken by the runner and by every command with --pack (the runner hands them on to those).
OUTSIDE_OPTIONS = ("--sha256", "--sha256-file", "--allowed-signers")
SIGNATURE_NAMESPACE = "provision-pack"  # ssh-keygen -n: a signature made for any other purpose never verifies
NO_OUTSIDE_CHECK = "no outside checksum given (--sha256 / --sha256-file); the pack checks only itself"
# Bounds checked before anything is unpacked. A pack of the largest profile has a few hundred members,
# stored (not compressed), and a few GB in all.
MAX_MEMBERS = 20_000
RECORD_MAX = 512  # bytes a member's record in the zip's directory needs at most: 46 + a name a pack may have
MAX_BYTES = 64 * 2**30  # unpacked, all members together
MAX_BYTES_VARIABLE = "PROVISION_PACK_MAX_BYTES"  # for a pack larger than that
MAX_RATIO = 200  # a member over RATIO_FROM that inflates more than this is a zip bomb
RATIO_FROM = 2**20
SMALL_MEMBER_MAX = 16 * 2**20  # what is read whole into memory: pack.json, the bootstrap manifest
CHUNK = 2**20
# Private folders in the temp dir: recognisable by name, and each holds OWNER ("PID HOST"), so the next run
# removes the ones whose process was killed (SIGKILL runs no cleanup).
PRIVATE_PREFIXES = ("provision-pack-", "provision-bootstrap-")
OWNER = ".provision-owner"


class Refused(Exception):
    """One line for the user: the pack cannot run here, and why, with provision's exit code
    (1 invalid input, 3 this machine does not fit, 5 a hash did not match or a tool failed)."""

    def __init__(self, message: str, code: int = 5) -> None:
        super().__init__(message)
        self.code = code


def host_platform() -> str:
    machine = platform.machine().lower()
    return PLATFORMS.get((sys.platform, "aarch64" if machine == "arm64" and sys.platform == "linux" else machine), "")


def safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in name:
        raise Refused(f"the pack has an unsafe member name {name!r}; make it again with `provision pack`")
    return path


@dataclass(frozen=True)
class OutsideChecks:
    """What vouches for a pack from outside it: its sha256 (given, or read from a `sha256sum` file),
    and the allowed signers of its OpenSSH signature PACK.sig."""

    sha256: str | None = None
    sha256_file: Path | None = None
    allowed_signers: Path | None = None

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.sha256, self.sha256_file, self.allowed_signers))

    @classmethod
    def from_args(cls, args: list[str]) -> OutsideChecks:
        """The runner's own reading of the options (no argparse: the rest belongs to provision)."""
        values: dict[str, str] = {}
        for index, arg in enumerate(args):
            if arg == "--":
                break
            name, equals, value = arg.partition("=")
            if name not in OUTSIDE_OPTIONS:
                continue
            if not equals:
                if index + 1 >= len(args):
                    raise Refused(f"{name} needs a value", 1)
                value = args[index + 1]
            values[name] = value
        file, signers = values.get("--sha256-file"), values.get("--allowed-signers")
        return cls(values.get("--sha256"), Path(file) if file else None, Path(signers) if signers else None)


def without_outside_options(args: list[str]) -> list[str]:
    """`args` less the outside options, for a command that takes no pack (they were checked here)."""
    kept: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            return [*kept, arg, *rest]
        if arg in OUTSIDE_OPTIONS:
            next(rest, None)
        elif arg.partition("=")[0] not in OUTSIDE_OPTIONS:
            kept.append(arg)
    return kept


def expected_sha256(checks: OutsideChecks, pack: Path) -> tuple[str, str] | None:
    """(sha256, where it came from), from --sha256 or the line of --sha256-file naming the pack."""
    if checks.sha256 is not None and checks.sha256_file is not None:
        raise Refused("give --sha256 or --sha256-file, not both", 1)
    if checks.sha256 is not None:
        if not SHA256.fullmatch(checks.sha256.lower()):
            raise Refused(f"--sha256 {checks.sha256[:80]!r} is not a sha256 (64 hex digits)", 1)
        return checks.sha256.lower(), "--sha256"
    if checks.sha256_file is None:
        return None
    source = f"--sha256-file {checks.sha256_file}"
    try:
        with open(checks.sha256_file, "rb") as file:
            text = file.read(SMALL_MEMBER_MAX + 1)
    except OSError as exc:
        raise Refused(f"{source}: cannot read it ({exc.strerror or type(exc).__name__})", 1) from None
    # `sha256sum` lines: HEX, two spaces (or " *" for binary mode), the file's name.
    lines = [(line[:64].lower(), line[66:]) for line in text.decode("utf-8", "replace").splitlines()
             if SHA256.fullmatch(line[:64].lower()) and line[64:66] in ("  ", " *")]  # fmt: skip
    named = [digest for digest, name in lines if PurePosixPath(name).name == pack.name]
    if len(set(named)) == 1:
        return named[0], source
    if not named and len(lines) == 1:  # a file made for this pack, which has since been renamed
        return lines[0][0], source
    raise Refused(f"{source}: no single `sha256sum` line for {pack.name} in it", 1)


def check_outside(raw: BinaryIO, pack: Path, checks: OutsideChecks) -> None:
    """Check the whole file `raw` (the pack, not yet read as a zip) against `checks`. The same open file is
    then read as the zip, so the bytes checked are the bytes unpacked."""
    expected = expected_sha256(checks, pack)
    if expected is not None:
        digest = hashlib.sha256()
        raw.seek(0)
        while chunk := raw.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != expected[0]:
            raise Refused(
                f"its sha256 is {digest.hexdigest()} but {expected[1]} says {expected[0]}: not the pack that was "
                "meant (changed or damaged); nothing was unpacked",
                1,
            )
    if checks.allowed_signers is not None:
        check_signature(raw, pack, checks.allowed_signers)
    raw.seek(0)


def check_signature(raw: BinaryIO, pack: Path, allowed_signers: Path) -> None:
    """PACK.sig must verify with ssh-keygen against a signer in `allowed_signers` (OpenSSH's own format)."""
    signature = pack.with_name(pack.name + ".sig")
    if not signature.is_file():
        raise Refused(f"--allowed-signers: no signature {signature.name} beside it (`provision pack --sign KEY`)", 1)
    if not allowed_signers.is_file():
        raise Refused(f"--allowed-signers {allowed_signers}: no such file", 1)
    # Which identity signed is read from the signature, then the signature is verified for that identity.
    found = ssh_keygen(["-Y", "find-principals", "-s", str(signature), "-f", str(allowed_signers)], None)
    identity = next(iter(found.stdout.splitlines()), "") if found.returncode == 0 else ""
    if not identity:
        raise Refused(f"{signature.name} was made by a key that {allowed_signers} does not allow; refused", 1)
    raw.seek(0)
    verified = ssh_keygen(["-Y", "verify", "-f", str(allowed_signers), "-I", identity, "-n", SIGNATURE_NAMESPACE,
                           "-s", str(signature)], raw)  # fmt: skip
    if verified.returncode != 0:
        why = " / ".join((verified.stderr or verified.stdout).strip().splitlines()[-2:])
        raise Refused(f"{signature.name} does not verify for the signer {identity[:80]!r} ({why[:200]}); refused", 1)


def ssh_keygen(args: list[str], stdin: BinaryIO | None) -> subprocess.CompletedProcess[str]:
    # Here, not through provision's runner: this file has the standard library only.
    try:
        return subprocess.run(["ssh-keygen", *args], stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    except FileNotFoundError:
        raise Refused("ssh-keygen not found: install OpenSSH's client to check a signature") from None
    except subprocess.TimeoutExpired:
        raise Refused("ssh-keygen gave no answer in 300 s") from None


def max_bytes() -> int:
    value = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    if not value:
        return MAX_BYTES
    if not (value.isascii() and value.isdigit()):
        raise Refused(f"{MAX_BYTES_VARIABLE}={value[:40]!r}: give a number of bytes", 1)
    return int(value)


@contextlib.contextmanager
def checked_archive(raw: BinaryIO, pack: Path, checks: OutsideChecks) -> Iterator[zipfile.ZipFile]:
    """`raw` read as a zip, once checked from outside and bounded: nothing is unpacked yet."""
    check_outside(raw, pack, checks)
    check_directory(raw)
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused(f"not a provision pack ({type(exc).__name__}); make it with `provision pack`", 1) from None
    with archive:
        check_bounds(archive)
        yield archive


def check_directory(raw: BinaryIO) -> None:
    """Bound the zip's directory by what its end record says, before zipfile reads every member's
    record into memory: twenty million empty members must not cost gigabytes to refuse."""
    end = raw.seek(0, os.SEEK_END)
    start = max(0, end - 22 - 0xFFFF)  # the end record: 22 bytes and a comment of up to 64 KiB
    raw.seek(start)
    tail = raw.read(end - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise Refused("not a provision pack (no zip end record); make it with `provision pack`", 1)
    members, size = struct.unpack_from("<HI", tail, at + 10)  # total members; directory size (ZIP64 sets both to ~0)
    if members > MAX_MEMBERS or size > MAX_MEMBERS * RECORD_MAX:
        counted = members if members < 0xFFFF else "over 65,534"
        raise Refused(f"it has {counted} members in a directory of {size} bytes; a pack has at most {MAX_MEMBERS}: "
                      "refused before unpacking anything", 1)  # fmt: skip
    raw.seek(0)


def check_bounds(archive: zipfile.ZipFile) -> None:
    """Every member once, stored or deflated, not encrypted, no zip bomb, and a total this machine accepts.
    The sizes are the directory's: zipfile stops reading a member at its stated size (and checks its CRC)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise Refused(f"it has {len(infos)} members, more than {MAX_MEMBERS}: refused before unpacking anything", 1)
    seen: set[str] = set()
    total, limit = 0, max_bytes()
    for info in infos:
        name = info.filename
        if name in seen:  # which copy a reader takes differs between tools: neither is trusted
            raise Refused(f"the member {name[:120]!r} appears twice: refused before unpacking anything", 1)
        seen.add(name)
        if info.flag_bits & 0x1:
            raise Refused(f"the member {name[:120]!r} is encrypted; a pack never is: refused", 1)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused(f"the member {name[:120]!r} uses compression method {info.compress_type}; "
                          "a pack is stored or deflated: refused", 1)  # fmt: skip
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            raise Refused(f"the member {name[:120]!r} inflates {info.compress_size} bytes to {info.file_size} "
                          f"(over {MAX_RATIO}:1, a zip bomb): refused before unpacking anything", 1)  # fmt: skip
        total += info.file_size
    if total > limit:
        raise Refused(f"it unpacks to {total} bytes, more than {limit} ({MAX_BYTES_VARIABLE} sets the limit): "
                      "refused before unpacking anything", 1)  # fmt: skip


def stream_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, expected: tuple[str, str] | None
) -> None:
    """Write the member to the new file `dest` in chunks, hashing as it goes; `expected` is (algorithm, hex).
    On a mismatch or a damaged member the file is deleted and the pack refused."""
    digest = hashlib.new(expected[0], usedforsecurity=False) if expected is not None else None
    try:
        with archive.open(info) as source, open(dest, "xb") as out:
            while chunk := source.read(CHUNK):
                if digest is not None:
                    digest.update(chunk)
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        dest.unlink(missing_ok=True)
        raise Refused(f"{info.filename} in the pack is damaged ({str(exc)[:160]}); make or copy it again") from None
    except BaseException:  # a full disk, an interrupt: no partial file stays
        dest.unlink(missing_ok=True)
        raise
    if digest is not None and expected is not None and digest.hexdigest() != expected[1]:
        dest.unlink()
        raise Refused(f"{info.filename} in the pack does not match its {expected[0]} (hash mismatch: "
                      f"{digest.hexdigest()}); the pack is damaged or was changed")  # fmt: skip


def read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member read whole into memory (KeyError when absent), after checking its stated size."""
    if archive.getinfo(name).file_size > SMALL_MEMBER_MAX:
        raise Refused(f"its {name} is over {SMALL_MEMBER_MAX} bytes; make the pack again", 1)
    return archive.read(name)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's cancel, `kill`) raises KeyboardInterrupt as Ctrl-C does, so that every
    `finally` and context manager runs and the private folders are removed. Only the main thread
    may set a handler; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def private_folder(prefix: str) -> Iterator[Path]:
    """A new folder in the temp dir, removed on exit (SIGTERM and SIGINT included); first, the folders
    that killed runs on this host left behind are removed."""
    assert prefix in PRIVATE_PREFIXES
    with sigterm_as_interrupt():
        parent = Path(tempfile.gettempdir())
        remove_stale(parent)
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        try:
            (folder / OWNER).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def remove_stale(parent: Path) -> None:
    """Remove the private folders in `parent` that this user's runs on this host left when killed. A
    folder is kept unless its owner file names a process of this host that is gone: a temp dir shared
    between nodes holds other nodes' live folders."""
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    host, uid = socket.gethostname(), os.getuid()
    for entry in entries:
        if not entry.name.startswith(PRIVATE_PREFIXES):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            fd = os.open(os.path.join(entry.path, OWNER), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                owner = os.read(fd, 300).decode("utf-8", "replace").split()
            finally:
                os.close(fd)
            pid = int(owner[0])
        except (OSError, ValueError, IndexError):  # no owner file yet (being made), or not ours to judge
            continue
        if pid > 0 and owner[1:] == [host] and not _alive(pid):
            shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(read_small(archive, MANIFEST))
    except KeyError:
        raise Refused(
            "this pack carries no provision (made with --no-bootstrap); install provision and run "
            "`provision apply --pack FILE`",
            1,
        ) from None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        raise Refused(f"its {MANIFEST} is not readable JSON; make the pack again with `provision pack`", 1) from None
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise Refused(f"the pack's bootstrap is not schema {MANIFEST_SCHEMA}; make it again with this provision", 1)
    return manifest


def this_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def check_host(manifest: dict) -> list:
    """The wheels for this interpreter, once the platform and the Python are known to fit."""
    if manifest.get("platform") != host_platform():
        raise Refused(
            f"this pack is for {manifest.get('platform')} and this machine is "
            f"{host_platform() or platform.machine()}; make a pack with `--platform` for it",
            3,
        )
    pythons = manifest.get("pythons") or {}
    if this_python() not in pythons:
        packed = ", ".join(sorted(pythons)) or "none"
        raise Refused(
            f"the provision in this pack runs on Python {packed} and this is {this_python()}: run it with one of "
            f"those, or make the pack with `--bootstrap-python {this_python()}`",
            3,
        )
    return pythons[this_python()]


def install(archive: zipfile.ZipFile, manifest: dict, chosen: list, folder: Path) -> Path:
    """Install the `chosen` wheels and the packed code into `folder/site`; return it. Every byte is checked first."""
    wheels = folder / "wheels"
    wheels.mkdir()
    lines, uv_wheel = [], None
    for wheel in chosen:
        # Each field reaches a file name or a requirements line: only the shapes provision writes pass.
        if not (DIST_NAME.fullmatch(str(wheel["name"])) and WHEEL_FILE.fullmatch(str(wheel["file"]))
                and SHA256.fullmatch(str(wheel["sha256"]))):  # fmt: skip
            raise Refused(f"the pack's bootstrap lists a malformed wheel {str(wheel['file'])[:60]!r}; make it again", 5)
        name = str(wheel["file"])
        stream_member(archive, archive.getinfo(WHEELS + name), wheels / name, ("sha256", str(wheel["sha256"])))
        lines.append(f"{wheel['name']} @ {(wheels / name).as_uri()} --hash=sha256:{wheel['sha256']}")
        uv_wheel = wheels / name if wheel["name"] == "uv" else uv_wheel
    if uv_wheel is None:
        raise Refused("the pack's bootstrap has no uv wheel; make it again with `provision pack`")
    uv = folder / "uv"
    with zipfile.ZipFile(uv_wheel) as packed_uv:
        member = next(n for n in packed_uv.namelist() if n.endswith(".data/scripts/uv"))
        uv.write_bytes(packed_uv.read(member))
    uv.chmod(0o700)
    (folder / "requirements.txt").write_text("\n".join(lines) + "\n")
    site = folder / "site"
    done = subprocess.run(
        # --no-cache: the wheels lie in this run's own folder, so a shared cache would only gain an entry per run
        # (the node's user's, which is not the pack's to fill); --no-config and the link mode named: nothing of
        # the node's uv settings changes what the pack installs.
        [str(uv), "pip", "install", "--quiet", "--offline", "--no-index", "--no-deps", "--require-hashes",
         "--no-cache", "--no-config", "--link-mode", "copy",
         "--target", str(site), "--python", sys.executable, "-r", str(folder / "requirements.txt")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise Refused(f"installing the packed provision failed: {done.stdout.strip().splitlines()[-1:]}")
    for entry in manifest["code"]:
        relative = safe_member(entry["path"])
        if relative.parts[0] != "provision":
            raise Refused(f"the pack's code member {entry['path'][:60]!r} is outside provision/; make it again", 5)
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        stream_member(archive, archive.getinfo(CODE + str(relative)), site / relative, ("sha256", str(entry["sha256"])))
    return site


def handed_on(args: list[str], pack: Path) -> list[str]:
    """The command line provision gets: a command that takes a pack gets `--pack PACK` (and keeps the
    outside options, which it checks again on the file it opens); any other loses them."""
    if args and args[0] in TAKES_PACK and "--pack" not in args:
        return [args[0], "--pack", str(pack), *args[1:]]
    return args if args[:1] and args[0] in TAKES_PACK else without_outside_options(args)


def main() -> None:
    pack = Path(sys.argv[0]).resolve()
    args = sys.argv[1:]
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(sigterm_as_interrupt())
            checks = OutsideChecks.from_args(args)
            raw = stack.enter_context(open(pack, "rb", buffering=0))  # unbuffered: ssh-keygen reads the same fd
            archive = stack.enter_context(checked_archive(raw, pack, checks))
            if not checks.given and args[:1] and args[0] not in TAKES_PACK:  # those say it themselves
                print(f"note: {pack.name}: {NO_OUTSIDE_CHECK}", file=sys.stderr)
            manifest = read_manifest(archive)
            chosen = check_host(manifest)
            site = install(archive, manifest, chosen, stack.enter_context(private_folder("provision-bootstrap-")))
            archive.close()
            raw.close()
            sys.path.insert(0, str(site))
            os.environ["PATH"] = f"{site / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
            sys.argv = ["provision", *handed_on(args, pack)]
            from provision.quick import main as provision_main

            provision_main()
    except Refused as refused:
        print(f"error: {pack.name}: {refused}", file=sys.stderr)
        sys.exit(refused.code)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before provision took over; the folder is gone already
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (KeyError, TypeError, AttributeError, StopIteration, OSError, zipfile.BadZipFile) as exc:
        print(
            f"error: {pack.name}: not a readable provision pack ({type(exc).__name__}); make it again with "
            "`provision pack`",
            file=sys.stderr,
        )
        sys.exit(5)


if __name__ == "__main__":
    main()
