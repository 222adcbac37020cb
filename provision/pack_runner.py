"""The `__main__.py` of a pack, so that a node with only python3 runs `python3 PACK apply ...`.

It is copied into every pack verbatim and must need nothing but the standard library. It checks
the interpreter and platform against what the pack was made for, installs the packed wheels of
provision's dependencies (each checked against its sha256) with the packed uv into a private
folder that lives as long as the command, adds provision's own packed code, and hands the command
line to provision, adding `--pack THIS_FILE` to the commands that take one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

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


def read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise Refused(
            "this pack carries no provision (made with --no-bootstrap); install provision and run "
            "`provision apply --pack FILE`",
            1,
        ) from None
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


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        data = archive.read(WHEELS + name)
        if sha256_of(data) != wheel["sha256"]:
            raise Refused(f"{name} in the pack does not match its sha256; the pack is damaged or was changed")
        (wheels / name).write_bytes(data)
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
        [str(uv), "pip", "install", "--quiet", "--offline", "--no-index", "--no-deps", "--require-hashes",
         "--target", str(site), "--python", sys.executable, "-r", str(folder / "requirements.txt")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise Refused(f"installing the packed provision failed: {done.stdout.strip().splitlines()[-1:]}")
    for entry in manifest["code"]:
        relative = safe_member(entry["path"])
        if relative.parts[0] != "provision":
            raise Refused(f"the pack's code member {entry['path'][:60]!r} is outside provision/; make it again", 5)
        data = archive.read(CODE + str(relative))
        if sha256_of(data) != entry["sha256"]:
            raise Refused(f"{relative} in the pack does not match its sha256; the pack is damaged or was changed")
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(data)
    return site


def with_pack(args: list[str], pack: Path) -> list[str]:
    if args and args[0] in TAKES_PACK and "--pack" not in args:
        return [args[0], "--pack", str(pack), *args[1:]]
    return args


def main() -> None:
    pack = Path(sys.argv[0]).resolve()
    folder = Path(tempfile.mkdtemp(prefix="provision-bootstrap-"))
    try:
        with zipfile.ZipFile(pack) as archive:
            manifest = read_manifest(archive)
            site = install(archive, manifest, check_host(manifest), folder)
        sys.path.insert(0, str(site))
        os.environ["PATH"] = f"{site / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        sys.argv = ["provision", *with_pack(sys.argv[1:], pack)]
        from provision.quick import main as provision_main

        provision_main()
    except Refused as refused:
        print(f"error: {pack.name}: {refused}", file=sys.stderr)
        sys.exit(refused.code)
    except (KeyError, TypeError, AttributeError, StopIteration, OSError, zipfile.BadZipFile) as exc:
        print(
            f"error: {pack.name}: not a readable provision pack ({type(exc).__name__}); make it again with "
            "`provision pack`",
            file=sys.stderr,
        )
        sys.exit(5)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
