"""A small real world for end-to-end tests: a file:// channel of tiny conda packages, local wheels
and a project whose profile locks and applies them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import builders
from .inprocess import PROVISION, provision

__all__ = ["E2E", "PROVISION"]


class E2E:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.channel = builders.channel(
            tmp / "channel",
            [
                ("provtest-base", "1.0", {"share/provtest/base.txt": b"base 1\n"}, []),
                ("provtest-tool", "1.0", {"share/provtest/tool.txt": b"tool 1\n"}, ["provtest-base"]),
                ("provtest-tool", "2.0", {"share/provtest/tool.txt": b"tool 2\n"}, ["provtest-base"]),
            ],
        )
        for version in ("1.0", "2.0"):
            builders.wheel(tmp / "wheels", "provtest-hello", version, f"VERSION = {version!r}\n")
        builders.wheel(tmp / "wheels", "provtest-extra", "1.0", "EXTRA = True\n")
        (tmp / "index").mkdir()
        self.root = tmp / "proj"
        (self.root / "profiles").mkdir(parents=True)
        self.prefix = tmp / "home" / "envs" / "e2e"
        self.env = builders.quiet_env(tmp)
        self.write_profile("provtest-tool 1.*", ["provtest-hello==1.0", "provtest-extra==1.0"], "yes")

    def write_profile(self, tool: str, wheels: list[str], value: str) -> None:
        (self.root / "profiles" / "e2e.yaml").write_text(
            f'name: e2e\nplatforms: [linux-64]\npython: "{sys.version_info[0]}.{sys.version_info[1]}"\n'
            f'channels: ["{builders.file_uri(self.channel)}"]\nconda: ["{tool}"]\n'
            f'pypi:\n  packages: {json.dumps(wheels)}\n  index_url: "{builders.file_uri(self.tmp / "index")}"\n'
            f'  find_links: ["{self.tmp / "wheels"}"]\nenv:\n  PROVTEST: "{value}"\n'
        )

    def run(
        self, *args: str, extra: dict[str, str] | None = None, process: bool = False, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """`provision --root PROJECT ARGS`, in this process unless it must be one (`process`, inprocess.py; a
        process is killed after `timeout`)."""
        env = {**self.env, **(extra or {})}
        return provision(["--root", str(self.root), *args], env, process=process, timeout=timeout)

    def in_env(self, code: str) -> str:
        done = self.run("run", "e2e", "--", "python", "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def tool(self) -> str:
        return (self.prefix / "share" / "provtest" / "tool.txt").read_text()
