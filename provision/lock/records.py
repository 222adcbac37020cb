"""The locked package, as the rest of provision sees it (independent of any library's model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]
