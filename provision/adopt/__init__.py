"""Foreign files in: a team's environment files read into a profile draft, by what they are, not by
their name. Every dependency, channel, platform and requirement lands in the draft with the same
meaning or is one note; a file that is not an environment (a lock, a pixi.lock, a virtual-package
spec) is one line saying what it is and which command takes it.

The file is untrusted: read capped, as data; each value's shape is checked before it is read, and
the profile model validates what the draft becomes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import LocatedError
from .draft import Draft

READS = "an environment.yml, a pixi manifest, a pyproject.toml, a requirements file or a Brewfile"


def import_file(path: Path, shown: str, wanted: frozenset[str] = frozenset()) -> Draft:
    """The draft profile of `path`; `wanted` names the extras, groups, features or environments to include."""
    from ..files import read_untrusted_text
    from ..lock.explicit import is_explicit
    from .brewfile import looks_like_brewfile, read_brewfile
    from .requirements import read_requirements

    text = read_untrusted_text(path, 4 << 20, shown, "give a regular UTF-8 file")
    if is_explicit(text):
        raise _not_environment(shown, "an @EXPLICIT list (a lock of one platform)", path)
    toml = _toml_or_none(text, shown, path)
    if toml is not None:
        return _from_toml(toml, shown, wanted)
    document = _yaml_or_none(text, shown, path)
    if isinstance(document, dict):
        return _from_yaml(document, text, shown, path)
    if looks_like_brewfile(text):
        return read_brewfile(text, shown)
    draft = Draft(kind="venv")
    read_requirements(draft, path, shown)
    if not draft.pypi and not draft.editable and not draft.targets:
        raise LocatedError(shown, "not a file init reads (no requirement found in it)", f"give {READS}")
    return draft


def _not_environment(shown: str, what: str, path: Path) -> LocatedError:
    return LocatedError(shown, f"{what}, not an environment file",
                        f"install it with `provision apply --lockfile {path}` (plan, status, tree and pack take "
                        "--lockfile too)")  # fmt: skip


def _toml_or_none(text: str, shown: str, path: Path) -> dict[str, Any] | None:
    """TOML 1.1 (pixi manifests use multi-line inline tables), or None when the text is not TOML.
    tomli >= 2.4 reads 1.1; an environment installed before it was a dependency falls back to the
    standard library's 1.0 reader, and a 1.1 file then says what to install."""
    try:
        import tomli as reader
    except ModuleNotFoundError:  # pragma: no cover - a provision installed without its dependencies
        import tomllib as reader  # type: ignore[no-redef]

    try:
        return reader.loads(text)
    except RecursionError:
        raise LocatedError(shown, "nested too deeply to be a manifest", "fix the file") from None
    except reader.TOMLDecodeError as exc:
        if path.suffix == ".toml":
            newer = "" if reader.__name__ == "tomli" else "; TOML 1.1 needs tomli>=2.4 (pip install 'tomli>=2.4')"
            raise LocatedError(shown, f"not valid TOML ({exc})", f"fix the file{newer}") from None
        return None


def _from_toml(document: dict[str, Any], shown: str, wanted: frozenset[str]) -> Draft:
    from .pixi import is_pixi, read_pixi
    from .pyproject import is_pyproject, read_pyproject

    if is_pixi(document):
        return read_pixi(document, shown, wanted)
    if is_pyproject(document):
        return read_pyproject(document, shown, wanted)
    if "version" in document and "package" in document:
        raise LocatedError(shown, "a lock (uv.lock, poetry.lock or pylock.toml), not an environment file",
                           "import the pyproject.toml beside it instead")  # fmt: skip
    raise LocatedError(shown, "a TOML file with no dependency tables provision reads", f"give {READS}")


def _yaml_or_none(text: str, shown: str, path: Path) -> Any:
    from ..profile.yamlsrc import strict_yaml_in

    if path.suffix not in (".yml", ".yaml", ".lock") and ":" not in text:
        return None
    try:
        return strict_yaml_in(text, shown, "fix the file's YAML")
    except LocatedError:
        if path.suffix in (".yml", ".yaml"):
            raise
        return None


def _from_yaml(document: dict[str, Any], text: str, shown: str, path: Path) -> Draft:
    from .conda_env import read_environment

    if document.get("version") == 1 and "package" in document:
        raise _not_environment(shown, "a conda-lock file", path)
    if "environments" in document and "packages" in document:
        raise LocatedError(shown, f"a pixi.lock (version {document.get('version')}), not an environment file",
                           "import the pixi manifest beside it (pixi.toml or pyproject.toml)")  # fmt: skip
    if "subdirs" in document:
        raise LocatedError(shown, "a conda-lock virtual-package spec, not an environment file",
                           "write its values as the profile's requires: (cuda_driver, glibc, macos)")  # fmt: skip
    if "dependencies" not in document:
        raise LocatedError(shown, "not a conda environment file", "it needs a `dependencies:` list")
    return read_environment(document, text, shown, path.parent)
