"""A Brewfile, read as data (never run): `tap`, `brew` and `cask` lines land in `brew:`; `mas`,
`vscode`, `whalebrew`, options (`args:`, `restart_service:`) and Ruby code are one note each."""

from __future__ import annotations

import re

from .. import grammar
from .draft import Draft

ENTRY = re.compile(r"""\s*(tap|brew|cask|mas|vscode|whalebrew|go|cargo|uv|flatpak)\s+(["'])([^"']+)\2\s*(,.*)?""")
KINDS = {"tap": "taps", "brew": "formulae", "cask": "casks"}


def looks_like_brewfile(text: str) -> bool:
    """Brewfile lines (`brew "x"`, `tap 'u/r'`) make up a third of it: the rest may be Ruby."""
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    entries = sum(bool(ENTRY.match(line)) for line in lines)
    return entries > 0 and entries * 3 >= len(lines)


def read_brewfile(text: str, shown: str) -> Draft:
    draft = Draft(kind="venv")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.strip().startswith("#"):
            continue
        where = f"{shown}:{number}"
        found = ENTRY.fullmatch(line)
        if found is None:
            draft.note(f"{where}: '{grammar.printable(line.strip())[:80]}' left out: Ruby code is not read "
                       "(a profile's brew: lists names only)")  # fmt: skip
            continue
        kind, name, options = found.group(1), found.group(3), found.group(4)
        if kind not in KINDS:
            draft.note(f"{where}: {kind} '{name}' left out: provision's brew: holds taps, formulae and casks")
            continue
        pattern = grammar.TAP_NAME if kind == "tap" else grammar.BREW_NAME
        if not pattern.fullmatch(name):
            draft.note(f"{where}: {kind} '{grammar.printable(name)}' left out: not a Homebrew name")
            continue
        entries = draft.brew.setdefault(KINDS[kind], [])
        if name not in entries:
            entries.append(name)
        if options:
            draft.note(f"{where}: the options of {kind} '{name}' ({options.strip(', ')[:60]}) left out")
    return draft
