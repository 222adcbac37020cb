"""The grammars every untrusted name and value is held to, in one place.

Profiles, lockfiles, mirrors and facts all reach paths, file names, requirement lines, shells,
Ruby or Nix. Each pattern here is used with `fullmatch`, so a trailing newline or a second line
can never slip past a validator (`re.match(r"...$")` accepts "FOO\\n").
"""

from __future__ import annotations

import re

# Homebrew names: letters, digits and the few punctuation marks real formulae use
# (`bash-completion@2`, `c++filt`, `user/tap/name`). No quotes, spaces, `#`, `{` or
# backslashes, so a name can never close the Ruby string it is written into.
BREW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._+\-]*(/[A-Za-z0-9][A-Za-z0-9@._+\-]*){0,2}")
TAP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*")
NIX_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VERSION = re.compile(r"\d+(\.\d+){0,3}")
PYTHON = re.compile(r"3\.\d{1,2}(\.\d{1,2})?")
CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.\-]+)*|(https?|file)://[^\s\"'\\]+")
URL = re.compile(r"(https?|file)://[^\s\"'\\]+")
VIRTUAL = re.compile(r"__[a-z_]+")
PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9\-]{0,63}")  # a file name and a folder name: kept short
VARIANT_NAME = re.compile(r"[a-z][a-z0-9\-]{0,31}")  # a folder under envs/PROFILE/ and a word in messages
# An environment's name (a profile name, or one derived from a lockfile's name): a single path
# component that is never empty, `.` or `..`.
ENV_DIR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")

# Lockfile fields (conda's and PEP 503/440 grammars, as conda-lock writes them).
CONDA_PLATFORM = re.compile(r"noarch|(linux|osx|win|emscripten|wasi|zos)-[a-z0-9_]+")
CONDA_PACKAGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
CONDA_VERSION = re.compile(r"[A-Za-z0-9_.+!*\-]+")
CONDA_BUILD = re.compile(r"[A-Za-z0-9_.+\-]*")
PYPI_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._\-]*[A-Za-z0-9])?")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
MD5 = re.compile(r"[0-9a-fA-F]{32}")
# An artifact's file name as it lands in the cache: one path component, no leading dot.
ARTIFACT_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!%\-]*\.(conda|tar\.bz2|whl|tar\.gz|zip)")
CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")  # a conda-lock category (main, dev, test, an extra)
INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,63}")
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,252}")  # a Slurm node name (RFC 1123, and '_')
CODE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # a folder or file name of provision's own packed code
CONDA_ARCHIVE = re.compile(r".+\.(conda|tar\.bz2)")
PYPI_ARCHIVE = re.compile(r".+\.(whl|tar\.gz|zip)")  # conda-lock also locks sdists; apply installs wheels only
# A PyPI entry locked from git, as conda-lock writes it: the repository URL and a full commit.
# Only https (and file, for local mirrors and tests); a branch, tag or short hash is not a pin.
GIT_PIN = re.compile(r"git\+(?P<repo>(https|file)://[^\s\"'\\@#]+)@(?P<commit>[0-9a-f]{40})")
DEPENDENCY_SPEC = re.compile(r"[^\x00-\x1f\x7f]*")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def control_character(value: str) -> str | None:
    """The first control character in `value`, shown as users can read it (`'\\n'`), or None."""
    found = _CONTROL.search(value)
    return repr(found.group()) if found else None


def printable(value: str) -> str:
    """`value` with every control character written out (`\\x1b`), for untrusted text bound for a terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in value)


def full(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
