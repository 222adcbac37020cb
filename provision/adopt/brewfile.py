"""A Brewfile, read as data (never run): `tap`, `brew` and `cask` lines land in `brew:`; `mas`,
`vscode`, `whalebrew`, options (`args:`, `restart_service:`) and Ruby code are one note each.

A profile's `brew:` is installed on macOS only, so an entry under `if OS.mac?` (a block, or a trailing
`if`) means what it meant; one under `if OS.linux?` (or `unless OS.mac?`, or the `else` of `if OS.mac?`)
is left out in a note, and one under any other condition is carried with a note naming the condition
it lost."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import grammar
from .draft import Draft

ENTRY = re.compile(r"""\s*(tap|brew|cask|mas|vscode|whalebrew|go|cargo|uv|flatpak)\s+(["'])([^"']+)\2\s*(,.*?)?"""
                   r"""(?:\s+(if|unless)\s+(.+?))?\s*""")  # fmt: skip
KINDS = {"tap": "taps", "brew": "formulae", "cask": "casks"}
PLATFORM_TESTS = {"OS.mac?": "mac", "OS.linux?": "linux"}
BOTH = frozenset({"mac", "linux"})
OPENS = re.compile(r"\s*(case|begin|while|until|for|def|class|module)\b|.*\bdo(\s*\|[^|]*\|)?\s*$")


@dataclass(frozen=True)
class Test:
    """One condition as written (`OS.mac?`), and whether it must be false (`unless`, an earlier branch)."""

    text: str
    negated: bool = False

    def negate(self) -> Test:
        return Test(self.text, not self.negated)

    def shown(self) -> str:
        if not self.negated:
            return self.text
        return f"not ({self.text})" if " " in self.text.strip() else f"not {self.text}"

    def platforms(self) -> tuple[frozenset[str], list[str]]:
        """The platforms this test allows, and the parts of it that are not a platform test."""
        text, negated = self.text.strip(), self.negated
        while text.startswith("!") or text.startswith("not "):
            text, negated = text.removeprefix("!").removeprefix("not ").strip(), not negated
        parts = [_unwrapped(p) for p in re.split(r"\s+(?:&&|and)\s+", text)]
        if (negated and len(parts) > 1) or any(re.search(r"\|\||\bor\b", p) for p in parts):
            return BOTH, [self.shown()]
        allowed, unknown = BOTH, []
        for part in parts:
            if part in PLATFORM_TESTS:
                allowed &= {PLATFORM_TESTS[part]}
            else:
                unknown.append(f"not {part}" if negated else part)
        return (BOTH - allowed if negated else allowed) if len(allowed) < 2 else BOTH, unknown


def _unwrapped(text: str) -> str:
    """`(OS.mac?)` -> `OS.mac?`; a call's own parentheses (`File.exist?('x')`) stay."""
    text = text.strip()
    return _unwrapped(text[1:-1]) if text.startswith("(") and text.endswith(")") else text


@dataclass
class Block:
    """An open `if`/`unless` (or another Ruby block): the branches before this one, and this one's test."""

    before: list[Test] = field(default_factory=list)
    test: Test | None = None

    def tests(self) -> list[Test]:
        return [t.negate() for t in self.before] + ([self.test] if self.test else [])


def looks_like_brewfile(text: str) -> bool:
    """Brewfile lines (`brew "x"`, `tap 'u/r'`) make up a third of it: the rest may be Ruby."""
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    entries = sum(bool(ENTRY.match(line)) for line in lines)
    return entries > 0 and entries * 3 >= len(lines)


def read_brewfile(text: str, shown: str) -> Draft:
    draft = Draft(kind="venv")
    blocks: list[Block] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.strip().startswith("#"):
            continue
        where = f"{shown}:{number}"
        if _structure(line.strip(), blocks):
            continue
        found = ENTRY.fullmatch(line)
        if found is None:
            draft.note(f"{where}: '{grammar.printable(line.strip())[:80]}' left out: Ruby code is not read "
                       "(a profile's brew: lists names only)")  # fmt: skip
            if OPENS.match(line):
                blocks.append(Block(test=Test(line.strip())))  # its `end` closes it; what is inside is conditional
            continue
        kind, name, options = found.group(1), found.group(3), found.group(4)
        if kind not in KINDS:
            draft.note(f"{where}: {kind} '{name}' left out: provision's brew: holds taps, formulae and casks")
            continue
        pattern = grammar.TAP_NAME if kind == "tap" else grammar.BREW_NAME
        if not pattern.fullmatch(name):
            draft.note(f"{where}: {kind} '{grammar.printable(name)}' left out: not a Homebrew name")
            continue
        tests = [t for block in blocks for t in block.tests()]
        if found.group(5):
            tests.append(Test(found.group(6).strip(), found.group(5) == "unless"))
        if not _kept_on_the_mac(draft, where, kind, name, tests):
            continue
        entries = draft.brew.setdefault(KINDS[kind], [])
        if name not in entries:
            entries.append(name)
        if options:
            draft.note(f"{where}: the options of {kind} '{name}' ({options.strip(', ')[:60]}) left out")
    return draft


def _structure(line: str, blocks: list[Block]) -> bool:
    """`if`, `unless`, `elsif`, `else` and `end` lines: the blocks they open, turn and close (True), read
    as conditions, never run. A one-line `if ... end` and an `end` with no block are Ruby code (False)."""
    head, _, rest = line.partition(" ")
    rest = re.sub(r"\s+then$", "", rest.strip())
    if head in ("if", "unless") and rest and not re.search(r"\bend$", rest):
        blocks.append(Block(test=Test(rest, head == "unless")))
    elif head == "elsif" and rest and blocks and blocks[-1].test is not None:
        blocks[-1].before.append(blocks[-1].test)
        blocks[-1].test = Test(rest)
    elif line == "else" and blocks and blocks[-1].test is not None:
        blocks[-1].before.append(blocks[-1].test)
        blocks[-1].test = None
    elif line == "end" and blocks:
        blocks.pop()
    else:
        return False
    return True


def _kept_on_the_mac(draft: Draft, where: str, kind: str, name: str, tests: list[Test]) -> bool:
    """Whether an entry under `tests` goes into `brew:` (installed on macOS only), with its note if any."""
    allowed, unknown = BOTH, []
    for test in tests:
        platforms, rest = test.platforms()
        allowed &= platforms
        unknown += rest
    written = grammar.printable(" and ".join(t.shown() for t in tests))[:100]
    if "mac" not in allowed:
        only = "for Linux only" if allowed else "under conditions no platform meets"
        draft.note(f"{where}: {kind} '{name}' left out: it is {only} ({written}), and a profile's brew: is "
                   "installed on macOS only")  # fmt: skip
        return False
    if unknown:
        dropped = grammar.printable(" and ".join(unknown))[:100]
        draft.note(f"{where}: {kind} '{name}' kept without its condition ({dropped}): provision does not run "
                   "Ruby; remove it from brew: if that condition matters")  # fmt: skip
    return True
