"""The locked package, as the rest of provision sees it (independent of any library's model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..grammar import GIT_PIN

MAIN = "main"  # conda-lock's default category: what `conda-lock install` installs unless asked for more


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    manager: Literal["conda", "pip"]
    platform: str
    url: str
    sha256: str
    md5: str | None = None  # conda packages only (conda-lock requires it for them)
    build: str | None = None
    dependencies: dict[str, str] = field(default_factory=dict)
    size: int | None = None  # archive bytes, when the index says; summed per platform in the lock
    # conda-lock's categories (main, dev, test, extras): a package may be in several.
    categories: frozenset[str] = frozenset({MAIN})

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def git_commit(self) -> str | None:
        """The commit of a PyPI entry locked from git (`git+https://...@<40 hex>`), else None: such an
        entry has no artifact hash, the commit is what pins it."""
        match = GIT_PIN.fullmatch(self.url) if self.manager == "pip" else None
        return match.group("commit") if match else None

    @property
    def pin(self) -> str:
        """How the lock pins this package, as `status` says it."""
        commit = self.git_commit
        return f"git commit {commit[:12]}" if commit else f"sha256 {self.sha256[:12]}" if self.sha256 else "md5"
