"""Where a project's files live: found from `--root` or the nearest parent with `profiles/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ProfileError, ProfileNotFound, ProjectNotFound
from .layout import ENVS_DIR, PROFILE_SUFFIX, PROFILES_DIR, find_root, named_root


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def profiles_dir(self) -> Path:
        return self.root / PROFILES_DIR

    def profile_path(self, name: str) -> Path:
        return self.profiles_dir / f"{name}{PROFILE_SUFFIX}"

    def env_dir(self, name: str) -> Path:
        return self.root / ENVS_DIR / name

    def relative(self, path: Path) -> Path:
        """Paths in messages are shown relative to the project, as users wrote them."""
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path

    def profile_names(self) -> list[str]:
        # Hidden files are not profiles: an editor's lock (Emacs's `.#NAME.yaml`, a link to nothing while the
        # profile is open) must not stop every command.
        paths = sorted(p for p in self.profiles_dir.glob(f"*{PROFILE_SUFFIX}") if not p.name.startswith("."))
        for path in paths:
            self._regular(path)
        return [p.stem for p in paths]

    def require_profile(self, name: str) -> Path:
        path = self.profile_path(name)
        if not os.path.lexists(path):
            names = self.profile_names()
            hint = f"available: {', '.join(names)}" if names else f"no profiles in {self.profiles_dir}"
            raise ProfileNotFound(str(self.relative(path)), f"no profile named {name!r}", f"{hint}.")
        return self._regular(path)

    def _regular(self, path: Path) -> Path:
        """Every *.yaml in profiles/ is a profile: one that is no regular file (a FIFO, a folder, a link to
        nothing) is refused by name, never skipped (a profile gone in silence) nor opened (a FIFO blocks)."""
        if not path.is_file():  # stat, not open: a FIFO is never opened here
            raise ProfileError(str(self.relative(path)), "not a regular file",
                               "make it a regular YAML file, or remove it from profiles/.")  # fmt: skip
        return path


def find_project(root: Path | None, start: Path | None = None) -> Project:
    """The project of `--root` (`root`; None: $PROVISION_ROOT), else of the nearest parent with profiles/
    (layout.py's rule, which the quick path shares)."""
    found = find_root(root, start)
    if found is not None:
        return Project(Path(found))
    given = root_given(root)
    if given is not None:
        path, origin = given
        # Named as the user set it: a stale PROVISION_ROOT in a shell profile is not a typo in this command.
        problem = ("names a folder that does not exist" if not path.exists() else
                   "names a file, not a folder" if not path.is_dir() else "names a folder with no profiles/")
        fix = ("pass --root with a project folder (one with profiles/)." if origin == "--root" else
               "set PROVISION_ROOT to a project folder (one with profiles/), or unset it.")  # fmt: skip
        raise ProjectNotFound(str(path), f"{origin} {problem}", fix)
    raise ProjectNotFound(
        str((start or Path.cwd()).resolve()),
        "no profiles/ folder here or in any parent",
        "run inside a project (a folder with profiles/), pass --root DIR, or set PROVISION_ROOT=DIR.",
    )


def root_given(root: Path | None) -> tuple[Path, str] | None:
    """The project folder the user named and where: (`--root`'s, "--root"), else ($PROVISION_ROOT, "PROVISION_ROOT"),
    else None (the project is searched for from the working folder)."""
    named = named_root(root)
    return (Path(named[0]), named[1]) if named is not None else None
