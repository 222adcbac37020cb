"""A profile being assembled from a foreign file, what could not be carried over (notes), and the
shape checks every foreign value passes before it is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LocatedError
from ..profile.merge import conda_name, pypi_name

DEFAULT_PLATFORMS = ["osx-arm64", "linux-64"]
DEFAULT_PYTHON = "3.11"
# The Python minors a profile may pin, newest first: a constraint becomes the default when it
# allows it, else the newest it allows.
PYTHON_MINORS = ("3.13", "3.12", "3.11", "3.10", "3.9", "3.8")


@dataclass
class Draft:
    """A profile being assembled from a foreign file, and what could not be carried over."""

    kind: str = "conda"
    python: str | None = None
    platforms: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    conda: list[str] = field(default_factory=list)
    pypi: list[str] = field(default_factory=list)
    targets: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    indexes: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    editable: list[str] = field(default_factory=list)
    requires: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    brew: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _seen: dict[str, dict[str, list[int]]] = field(default_factory=dict, repr=False)  # layer -> name -> places

    def add(self, layer: str, spec: str, platforms: list[str] | None = None) -> None:
        """A conda spec or PyPI requirement, on every platform (None) or on those named. A package named
        again is joined to what is there (`_put`): both meanings are kept, or a note says what was not."""
        if platforms is None:
            entries = getattr(self, layer)
            if layer not in self._seen:
                key = conda_name if layer == "conda" else pypi_name
                self._seen[layer] = {}
                for place, entry in enumerate(entries):
                    self._seen[layer].setdefault(key(entry), []).append(place)
            self._put(layer, entries, spec, self._seen[layer])
            return
        for platform in platforms:
            self._put(layer, self.targets.setdefault(platform, {}).setdefault(layer, []), spec, None)

    def _put(self, layer: str, entries: list[str], spec: str, index: dict[str, list[int]] | None) -> None:
        """`spec` into `entries`. PyPI: a package under the same marker becomes one requirement (extras
        unioned, versions intersected, as pip and uv read two such lines); under another marker it is
        its own entry. conda: one spec per package, joined when the two can be (else a note)."""
        key = conda_name if layer == "conda" else pypi_name
        name = key(spec)
        # A dict of positions for the common lists (large files stay linear); a scan for a platform's.
        places = index.get(name, []) if index is not None else [i for i, e in enumerate(entries) if key(e) == name]
        if spec in (entries[i] for i in places):
            return
        for place in places:
            joined = joined_requirement(entries[place], spec) if layer == "pypi" else joined_conda(entries[place], spec)
            if joined is not None:
                entries[place] = joined
                return
            if layer == "conda":
                self.note(f"conda '{spec}' left out: '{entries[place]}' names {name} too and the two do not join "
                          "into one spec (a profile lists a conda package once); write the one you mean")  # fmt: skip
                return
        if index is not None:
            index.setdefault(name, []).append(len(entries))
        entries.append(spec)

    def add_editable(self, path: str, where: str) -> None:
        """A project folder to install editable: only one inside the project (relative, no `..`), since
        its build backend writes there; anything else is a note, never copied into a committed profile."""
        from pathlib import PurePosixPath

        parts = PurePosixPath(path.replace("\\", "/")).parts
        if path.startswith(("/", "~")) or ".." in parts or ":" in path or not path.strip():
            self.note(f"{where}: editable '{path[:80]}' left out: only a folder inside the project is installed "
                      "editable (its build backend writes there)")  # fmt: skip
            return
        if path not in self.editable:
            self.editable.append(path)

    def as_venv(self) -> None:
        """Only PyPI packages: a venv (Python from the host or uv). Channels the file named go with the conda
        layer, and are said to go."""
        self.kind = "venv"
        if self.channels:
            self.note(f"channels {', '.join(self.channels)} left out: no conda package is asked for, so the profile "
                      "is a venv (Python from the host or uv); add `python` to its conda packages to keep them")
            self.channels = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _one_layer_each(self) -> None:
        """A package named in both layers comes from conda, as pixi and conda-lock take it (a profile
        never installs one package twice); the PyPI line goes, said in a note."""
        if self.kind != "conda":
            return
        conda = {conda_name(c) for c in self.conda}
        for requirement in [p for p in self.pypi if pypi_name(p) in conda]:
            self.pypi.remove(requirement)
            self.note(f"'{requirement}' is also a conda dependency: it comes from conda (as pixi and conda-lock "
                      "take it), the PyPI line was left out")  # fmt: skip

    @property
    def packages(self) -> int:
        """Everything that landed in the profile: packages of both layers, editables and brew entries."""
        targeted = sum(len(v) for layers in self.targets.values() for v in layers.values())
        return len(self.conda) + len(self.pypi) + targeted + len(self.editable) + sum(map(len, self.brew.values()))

    def choose_python(self, allows: Any, constraint: str) -> None:
        """The Python a constraint allows, said in a note: the default if it may, else the nearest it allows."""
        allowed = [minor for minor in PYTHON_MINORS if allows(minor)]
        if not allowed:
            self.note(f"python '{constraint}' allows none of {', '.join(PYTHON_MINORS)}; "
                      f"python: \"{DEFAULT_PYTHON}\" was written, change it")  # fmt: skip
            self.python = DEFAULT_PYTHON
            return
        # The default when allowed, else the allowed minor nearest to it (`>=3.12` -> 3.12, `<3.10` -> 3.9).
        self.python = min(allowed, key=lambda m: abs(int(m.split(".")[1]) - int(DEFAULT_PYTHON.split(".")[1])))
        if len(allowed) > 1:
            self.note(f"python '{constraint}' became python: \"{self.python}\" (a profile pins one version; "
                      f"{', '.join(reversed(allowed))} satisfy it)")  # fmt: skip

    def profile(self, name: str, source: str) -> dict[str, Any]:
        """The profile as a plain mapping, in the order a person would write it."""
        platforms = self.platforms or DEFAULT_PLATFORMS
        if not self.platforms:
            self.note(f"the file names no platforms: {', '.join(DEFAULT_PLATFORMS)} were chosen")
        if self.python is None:
            self.note(f"the file names no Python: python: \"{DEFAULT_PYTHON}\" was chosen (provision's default)")
        self._one_layer_each()
        for url in [*self.channels, self.index_url or "", *self.extra_index_urls, *self.indexes.values(),
                    *self.find_links]:
            if url.startswith("http://"):
                self.note(f"{url} is plain http: anyone on the network can change what it serves, and the lock "
                          "would record it; use https if the host has it")  # fmt: skip
        out: dict[str, Any] = {"name": name, "description": f"Imported from {source} by `provision init`"}
        out["kind"] = self.kind
        out["platforms"] = platforms
        out["python"] = self.python or DEFAULT_PYTHON
        if self.kind == "conda":
            out["channels"] = self.channels or ["conda-forge"]
            out["conda"] = self.conda
        pypi: dict[str, Any] = {"packages": self.pypi}
        for key, value in (("index_url", self.index_url), ("extra_index_urls", self.extra_index_urls),
                           ("find_links", self.find_links), ("indexes", self.indexes), ("sources", self.sources),
                           ("editable", self.editable)):  # fmt: skip
            if value:
                pypi[key] = value
        out["pypi"] = pypi
        targets = {p: layers for p, layers in self.targets.items() if p in platforms}
        if targets:
            out["targets"] = targets
        if self.brew:
            out["brew"] = self.brew
        if self.env:
            out["env"] = self.env
        if self.requires:
            out["requires"] = self.requires
        return out


def joined_requirement(first: str, second: str) -> str | None:
    """One PEP 508 requirement meaning both, when they share a marker: extras unioned, specifiers
    intersected (`ray[default]` + `ray[data]` -> `ray[data,default]`); None under two markers, or for
    a line packaging cannot read (each is then its own entry)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        a, b = Requirement(first), Requirement(second)
    except InvalidRequirement:
        return None
    if str(a.marker or "") != str(b.marker or "") or a.url or b.url:
        return None
    specifiers_a, specifiers_b = [str(s) for s in a.specifier], [str(s) for s in b.specifier]
    if b.extras <= a.extras and set(specifiers_b) <= set(specifiers_a):
        return first
    if a.extras <= b.extras and set(specifiers_a) <= set(specifiers_b):
        return second
    extras = f"[{','.join(sorted(a.extras | b.extras))}]" if a.extras | b.extras else ""
    specifiers = ",".join([*specifiers_a, *(s for s in specifiers_b if s not in specifiers_a)])
    marker = f"; {a.marker}" if a.marker else ""
    return f"{a.name}{extras}{specifiers}{marker}"


def joined_conda(first: str, second: str) -> str | None:
    """One conda spec meaning both: a bare name yields to the other spec, two version ranges (of one
    channel, or one with none) are intersected (`pandas` + `pandas>=2.0,<2.2.3dev0` -> the range);
    None when builds, hashes or other fields would have to be combined."""
    from ..profile.conda_spec import SpecError, parse_spec

    try:
        a, b = parse_spec(first), parse_spec(second)
    except SpecError:
        return None
    channel_a, channel_b = (s.partition("::")[0].strip() if "::" in s else "" for s in (first, second))
    if _version_only(b) and b.version is None and channel_b in ("", channel_a):
        return first
    if _version_only(a) and a.version is None and channel_a in ("", channel_b):
        return second
    if not (_version_only(a) and _version_only(b)) or (channel_a and channel_b and channel_a != channel_b):
        return None
    versions = [str(v) for v in (a.version, b.version) if v is not None]
    versions = [f"({v})" if "|" in v else v for v in versions]
    channel = channel_a or channel_b
    joined = f"{channel + '::' if channel else ''}{conda_name(first)} {','.join(versions)}"
    try:
        parse_spec(joined)
    except SpecError:
        return None
    return joined


def _version_only(spec: Any) -> bool:
    """A MatchSpec that says a name, maybe a channel and a version, and nothing else."""
    fields = ("build", "build_number", "md5", "sha256", "subdir", "file_name", "namespace", "extras", "condition")
    return all(getattr(spec, field, None) in (None, "", [], {}) for field in fields)


@dataclass(frozen=True)
class Shapes:
    """The shapes a foreign file's values must have before they are read: one located line each."""

    shown: str

    def fail(self, where: str, wanted: str, value: Any) -> LocatedError:
        return LocatedError(self.shown, f"must be {wanted}, not {type(value).__name__}", "fix the file", loc=where)

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "a table", value)
        return value

    def strings(self, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(where, "a list of strings", value)
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value

    def text(self, value: Any, where: str, default: str = "") -> str:
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(where, "a string", value)
        return value
