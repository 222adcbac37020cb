"""pip requirements files (and the `pip:` section of an environment.yml): requirements, index
options, `-e` folders, `-r`/`-c` includes read from beside the file, hashes and line continuations."""

from __future__ import annotations

from pathlib import Path

from .. import grammar
from ..errors import LocatedError
from .draft import Draft
from .urls import checked_link, checked_url

MAX_INCLUDE_DEPTH = 8
NOT_CARRIED = {  # options with no profile equivalent: each is one note
    "--pre": "pre-releases are allowed per requirement in a profile (write the version)",
    "--no-binary": "provision installs wheels only",
    "--only-binary": "provision installs wheels only, always",
    "--prefer-binary": "provision installs wheels only, always",
    "--trusted-host": "provision checks every download against its hash and takes https",
    "--use-feature": "a pip setting",
    "--no-index": "use pypi.find_links with pypi.index_url",
}


def read_requirements(draft: Draft, path: Path, shown: str, platforms: list[str] | None = None,
                      depth: int = 0, seen: frozenset[Path] = frozenset()) -> None:  # fmt: skip
    """Every line of a requirements file, with `-r` includes from the same folder tree."""
    from ..files import read_untrusted_text

    text = read_untrusted_text(path, 4 << 20, shown, "give a regular UTF-8 file")
    for number, line in logical_lines(text):
        pip_line(draft, line, platforms, f"{shown}:{number}", path.parent, depth, seen | {path.resolve()})


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with `\\` continuations joined and comments removed, as pip reads them."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw if not raw.lstrip().startswith("#") else ""
        line = line.split(" #", 1)[0].split("\t#", 1)[0]
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            out.append((start, joined))
    return out


def pip_line(draft: Draft, line: str, platforms: list[str] | None, where: str, folder: Path | None,
             depth: int = 0, seen: frozenset[Path] = frozenset()) -> None:  # fmt: skip
    """One requirements line: a requirement, an index option, an editable folder or an include."""
    if line.startswith("-"):
        _option(draft, line, platforms, where, folder, depth, seen)
        return
    requirement, hashed = _without_hashes(line)
    if hashed:
        draft.note(f"{where}: --hash values left out: the lock records each artifact's own hash")
    if requirement.startswith(("git+", "hg+", "svn+", "bzr+")) or "://" in requirement:
        draft.note(f"{where}: '{requirement}' left out: a direct URL or VCS requirement is not locked from a "
                   "profile; pin a release from an index, or list a local clone in pypi.editable")  # fmt: skip
        return
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement:
        what = "a local path; list its folder in pypi.editable" if "/" in requirement or requirement.startswith(".") \
            else "not a PEP 508 requirement"  # fmt: skip
        draft.note(f"{where}: '{grammar.printable(requirement)[:80]}' left out: {what}")
        return
    draft.add("pypi", requirement, platforms)


def _without_hashes(line: str) -> tuple[str, bool]:
    parts = line.split()
    kept = [p for p in parts if not p.startswith("--hash")]
    return " ".join(kept), len(kept) != len(parts)


def _option(draft: Draft, line: str, platforms: list[str] | None, where: str, folder: Path | None,
            depth: int, seen: frozenset[Path]) -> None:  # fmt: skip
    option, _, value = line.partition(" ")
    if "=" in option and option.startswith("--"):
        option, _, value = option.partition("=")
    value, _, more = value.strip().partition(" ")
    if more.strip().startswith("-"):  # pip takes several options on one line: `--extra-index-url U --trusted-host H`
        if more.count(" -") > 50:  # one line of hundreds of options is no requirements file
            raise LocatedError(where, "more than 50 options on one line", "write one option per line")
        _option(draft, more.strip(), platforms, where, folder, depth, seen)
    if option in ("--index-url", "-i"):
        draft.index_url = checked_url(value, where, "an index URL")
    elif option == "--extra-index-url":
        url = checked_url(value, where, "an index URL")
        if url not in draft.extra_index_urls:
            draft.extra_index_urls.append(url)
    elif option in ("--find-links", "-f"):
        link = checked_link(value, where)
        if link not in draft.find_links:
            draft.find_links.append(link)
    elif option in ("-e", "--editable"):
        if "://" in value or value.startswith(("git+", "hg+")):
            draft.note(f"{where}: '{line}' left out: a VCS requirement is not locked by provision; "
                       "clone it and list its folder in pypi.editable")  # fmt: skip
        else:
            draft.add_editable(value, where)
    elif option in ("-r", "--requirement", "-c", "--constraint"):
        _include(draft, option, value, platforms, where, folder, depth, seen)
    elif option in NOT_CARRIED:
        draft.note(f"{where}: option '{line}' left out: {NOT_CARRIED[option]}")
    else:
        draft.note(f"{where}: option '{line}' left out: not a requirements option provision carries")


def _include(draft: Draft, option: str, value: str, platforms: list[str] | None, where: str, folder: Path | None,
             depth: int, seen: frozenset[Path]) -> None:  # fmt: skip
    """`-r other.txt`: read from the including file's folder tree, never outside it, never twice."""
    constraint = option in ("-c", "--constraint")
    if folder is None or "://" in value or not value:
        draft.note(f"{where}: '{option} {value}' left out: only files beside the source are read")
        return
    path = (folder / value).resolve()
    if not path.is_relative_to(folder.resolve()):
        draft.note(f"{where}: '{option} {value}' left out: it lies outside the source's folder")
        return
    if path in seen or depth >= MAX_INCLUDE_DEPTH:
        draft.note(f"{where}: '{option} {value}' left out: it includes itself")
        return
    if not path.is_file():
        draft.note(f"{where}: '{option} {value}' left out: no such file beside the source")
        return
    if constraint:
        # A constraints file pins what other requirements pull in; a profile's lock does that itself.
        draft.note(f"{where}: constraints '{value}' not carried: the lock pins every dependency; "
                   "add a pin to pypi.packages for one that must not move")  # fmt: skip
        return
    try:
        read_requirements(draft, path, value, platforms, depth + 1, seen)
    except LocatedError as error:
        draft.note(f"{where}: '{option} {value}' left out: {error.problem}")
