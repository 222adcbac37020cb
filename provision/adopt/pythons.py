"""A foreign file's Python constraint, turned into the one version a profile pins."""

from __future__ import annotations

import re

from .draft import Draft

EXACT = re.compile(r"=?=?\s*(3\.\d{1,2}\.\d{1,2})(=.*)?")


def from_conda(draft: Draft, spec: str) -> None:
    """`python=3.10`, `python >=3.9,<3.12`, `python=3.9.7=h12debd9_1` (conda env export)."""
    from rattler import Version, VersionSpec

    from ..profile.conda_spec import (
        SpecError,
        parse_spec,
    )

    try:
        parsed = parse_spec(spec)
    except SpecError as error:
        draft.note(f"python '{spec[:60]}' is not a spec conda reads ({error}); the default was chosen")
        return
    version = parsed.version
    # A profile pins Python by its version alone (`python:`): the rest of the spec has nowhere to go.
    channel = spec.partition("::")[0].strip() if "::" in spec else None
    rest = [f"{label} '{value}'" for label, value in (
        ("build string", parsed.build), ("build number", parsed.build_number), ("channel", channel),
        ("subdir", parsed.subdir), ("file name", parsed.file_name), ("md5", parsed.md5.hex() if parsed.md5 else None),
        ("sha256", parsed.sha256.hex() if parsed.sha256 else None),
    ) if value]  # fmt: skip
    if rest:
        draft.note(f"python '{spec[:80]}': {', '.join(rest)} left out: a profile pins Python by its version alone "
                   "(python:)")  # fmt: skip
    if version is None:
        draft.python = None  # stated but unpinned: the default, said when the profile is written
        return
    exact = EXACT.fullmatch(str(version).replace(" ", ""))
    if exact:
        draft.python = exact.group(1)
        return
    wanted = VersionSpec(str(version))
    draft.choose_python(lambda minor: wanted.matches(Version(minor)) or wanted.matches(Version(minor + ".0")), spec)


def from_pep440(draft: Draft, constraint: str) -> None:
    """`requires-python = ">=3.9,<3.12"`, poetry's `python = "^3.10"` (after translation)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    exact = EXACT.fullmatch(constraint.strip())
    if exact:
        draft.python = exact.group(1)
        return
    try:
        allowed = SpecifierSet(constraint)
    except InvalidSpecifier:
        draft.note(f"python '{constraint}' is not a version constraint provision reads; the default was chosen")
        return
    draft.choose_python(lambda minor: allowed.contains(minor + ".0", prereleases=True), constraint)
