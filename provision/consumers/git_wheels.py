"""PyPI entries locked from git, built into wheels when a pack is made, so an offline node installs
an artifact with a hash like every other (a commit is no artifact: building it needs the repository
and a build backend, which a node may not reach). The packed lock records each wheel's sha256."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

from ..errors import ToolFailed
from ..lock.pypi_layer import uv_executable
from ..lock.records import LockedPackage
from ..runner import run

# Where a built wheel's URL points: never fetched (a pack installs from its own artifacts); the path
# keeps the commit it was built from.
BUILT_BASE = "file:///provision-pack/built-from-git"


def build_git_wheel(package: LockedPackage, into: Path) -> tuple[LockedPackage, Path]:
    """The wheel of `package` at exactly its locked commit, and the entry that now locks it by sha256."""
    from ..grammar import GIT_PIN

    pin = GIT_PIN.fullmatch(package.url)
    assert pin is not None  # only validated git entries come here
    with tempfile.TemporaryDirectory(prefix="provision-git-") as work:
        source = Path(work) / "source"
        run(["git", "clone", "--quiet", "--no-checkout", "--", pin.group("repo"), str(source)])
        run(["git", "-C", str(source), "checkout", "--quiet", "--detach", pin.group("commit")])
        out = Path(work) / "wheel"
        run([uv_executable(), "build", "--no-config", "--quiet", "--wheel", "--out-dir", str(out), str(source)])
        wheels = sorted(out.glob("*.whl"))
        if len(wheels) != 1:
            raise ToolFailed(f"{package.name}: building {package.url} gave {len(wheels)} wheels, not one.")
        into.mkdir(parents=True, exist_ok=True)
        built = into / wheels[0].name
        built.write_bytes(wheels[0].read_bytes())
    sha256 = hashlib.sha256(built.read_bytes()).hexdigest()
    url = f"{BUILT_BASE}/{pin.group('commit')}/{built.name}"
    return replace(package, url=url, sha256=sha256, md5=None), built
