"""Where a project's files live: found from `--root` or the nearest parent with `profiles/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ProfileNotFound, ProjectNotFound

PROFILE_SUFFIX = ".yaml"
BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    def profile_path(self, name: str) -> Path:
        return self.profiles_dir / f"{name}{PROFILE_SUFFIX}"

    def env_dir(self, name: str) -> Path:
        return self.root / "envs" / name

    def relative(self, path: Path) -> Path:
        """Paths in messages are shown relative to the project, as users wrote them."""
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path

    def profile_names(self) -> list[str]:
        return sorted(p.stem for p in self.profiles_dir.glob(f"*{PROFILE_SUFFIX}") if p.is_file())

    def require_profile(self, name: str) -> Path:
        path = self.profile_path(name)
        if not path.is_file():
            names = self.profile_names()
            hint = f"available: {', '.join(names)}" if names else f"no profiles in {self.profiles_dir}"
            raise ProfileNotFound(str(self.relative(path)), f"no profile named {name!r}", f"{hint}.")
        return path


def find_project(root: Path | None, start: Path | None = None) -> Project:
    if root is not None:
        if not (root / "profiles").is_dir():
            raise ProjectNotFound(str(root), "no profiles/ folder here", "pass --root with a project folder.")
        return Project(root.resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "profiles").is_dir():
            return Project(folder)
    raise ProjectNotFound(
        str(here), "no profiles/ folder here or in any parent",
        "run inside a project (a folder with profiles/), pass --root DIR, or set PROVISION_ROOT=DIR.",
    )
