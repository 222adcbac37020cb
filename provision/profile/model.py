"""The profile format as strict pydantic models.

Every string that later reaches Ruby (Brewfile), Nix (flake.nix), a shell
(activation scripts) or a solver is validated here, so the renderers can trust it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, cast

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from .. import grammar
from ..platforms import NAMES, TABLE
from .merge import conda_name, merge_by_name, pypi_name

PLATFORMS = NAMES
# conda-build's selector for each platform, as conda-lock reads it in an environment.yml (`# [linux64]`).
PLATFORM_SELECTORS = {name: TABLE[name].selector for name in NAMES}
Platform = Literal["osx-arm64", "linux-64", "linux-aarch64"]  # the type of platforms.NAMES (a test keeps them equal)
Kind = Literal["conda", "venv"]
Framework = Literal["torch", "tensorflow", "jax", "mlx"]
Device = Literal["auto", "cpu", "cuda", "mps", "gpu"]


def _matching(pattern: re.Pattern[str], what: str, example: str) -> Any:
    def check(value: str) -> str:
        bad = grammar.control_character(value)
        if bad:
            raise ValueError(f"{value!r} is not a valid {what}: it contains the control character {bad}")
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}; write it like {example!r}")
        return value

    return AfterValidator(check)


def _no_control(value: str, what: str) -> None:
    bad = grammar.control_character(value)
    if bad:
        raise ValueError(f"{value!r} contains the control character {bad}; a {what} is one line of text")


def _conda_spec(value: str) -> str:
    _no_control(value, "conda MatchSpec")
    # Parsed exactly as the solver will be given it (conda_spec.py: one grammar for both).
    from .conda_spec import SpecError, parse_spec

    try:
        parse_spec(value)
    except SpecError as exc:
        raise ValueError(f"{value!r} is not a valid conda MatchSpec ({exc}); write it like 'numpy >=2,<3'") from None
    if conda_name(value) == "python":
        raise ValueError("declare the Python version with the top-level `python:` key, not in `conda:`")
    return value


def _pypi_requirement(value: str) -> str:
    _no_control(value, "PEP 508 requirement")
    try:
        requirement = Requirement(value)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(
            f"{value!r} is not a valid PEP 508 requirement ({reason}); write it like 'torch==2.11.0'"
        ) from None
    if requirement.url:
        raise ValueError(f"{value!r} is a direct URL; lockable sources go in pypi.find_links or pypi.index_url")
    return value


def _env_value(value: str) -> str:
    bad = grammar.control_character(value.replace("\t", " "))
    if bad:
        raise ValueError(f"environment values must be one line; {value!r} contains the control character {bad}")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _as_text(value: Any) -> Any:
    # YAML reads `python: 3.10` as the float 3.1; refuse rather than guess.
    if isinstance(value, float):
        raise ValueError(f'{value!r} was read as a number; quote it, e.g. "{value}"')
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
CondaSpec = Annotated[str, AfterValidator(_conda_spec)]
PypiRequirement = Annotated[str, AfterValidator(_pypi_requirement)]
BrewFormula = Annotated[str, _matching(grammar.BREW_NAME, "Homebrew formula name", "bash-completion@2")]
BrewCask = Annotated[str, _matching(grammar.BREW_NAME, "Homebrew cask name", "visual-studio-code")]
BrewTap = Annotated[str, _matching(grammar.TAP_NAME, "Homebrew tap (user/repo)", "homebrew/cask-fonts")]
NixAttr = Annotated[str, _matching(grammar.NIX_ATTR, "nixpkgs attribute name", "uv")]
Channel = Annotated[str, _matching(grammar.CHANNEL, "conda channel name or URL", "conda-forge")]
Url = Annotated[str, _matching(grammar.URL, "http(s):// or file:// URL", "https://download.pytorch.org/whl/cpu")]
VersionText = Annotated[Text, _matching(grammar.VERSION, "version", "14.0")]
PythonVersion = Annotated[Text, _matching(grammar.PYTHON, "Python version", "3.11")]
EnvValue = Annotated[Text, AfterValidator(_env_value)]
EnvName = Annotated[str, _matching(grammar.ENV_NAME, "environment variable name", "PYTORCH_ENABLE_MPS_FALLBACK")]
VirtualName = Annotated[str, _matching(grammar.VIRTUAL, "virtual package name", "__cuda")]


def _editable_path(value: str) -> str:
    _no_control(value, "project folder")
    if value.startswith("-") or "://" in value or value.startswith("git+"):
        raise ValueError(f"{value!r} is not a local project folder; write a path like 'src/mylib' or '.'")
    return value


EditablePath = Annotated[Text, AfterValidator(_editable_path)]
IndexName = Annotated[str, _matching(grammar.INDEX_NAME, "index name", "pytorch-cu128")]
PypiName = Annotated[str, _matching(grammar.PYPI_NAME, "PyPI package name", "torch")]
VariantName = Annotated[str, _matching(grammar.VARIANT_NAME, "variant name", "cuda")]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pypi(StrictModel):
    """The PyPI layer: wheels resolved by uv, pinned with URL and sha256 in the lock."""

    packages: list[PypiRequirement] = Field(default_factory=list, description="PEP 508 requirements")
    index_url: Url | None = Field(default=None, description="replaces https://pypi.org/simple")
    extra_index_urls: list[Url] = Field(default_factory=list)
    find_links: list[Text] = Field(default_factory=list, description="folders or URLs of wheels")
    indexes: dict[IndexName, Url] = Field(
        default_factory=dict, description="named indexes that only the packages in `sources` come from"
    )
    sources: dict[PypiName, IndexName] = Field(
        default_factory=dict, description="package -> index name: this package only from that index (uv's explicit)"
    )
    editable: list[EditablePath] = Field(
        default_factory=list, description="local project folders installed in editable mode after the locked layers"
    )


class PlatformDependencies(StrictModel):
    """Packages for one platform only (pixi's `[target.linux-64.dependencies]`, conda's `# [linux64]`).
    A spec here replaces the common spec of the same package on that platform."""

    conda: list[CondaSpec] = Field(default_factory=list, description="conda MatchSpecs for this platform")
    pypi: list[PypiRequirement] = Field(default_factory=list, description="PEP 508 requirements for this platform")


class Brew(StrictModel):
    """Homebrew entries for the Mac; rendered into a Brewfile for `brew bundle`."""

    taps: list[BrewTap] = Field(default_factory=list)
    formulae: list[BrewFormula] = Field(default_factory=list)
    casks: list[BrewCask] = Field(default_factory=list)


class Requires(StrictModel):
    """What the host must offer; `apply` checks these before touching anything."""

    macos: VersionText | None = Field(default=None, description="minimum macOS version, e.g. '14.0'")
    arm64_native: bool = Field(default=False, description="refuse x86 Python / Rosetta on Apple silicon")
    memory_gb: float | None = Field(default=None, gt=0, description="minimum physical memory in GB")
    cuda_driver: VersionText | None = Field(
        default=None, description="minimum CUDA version the NVIDIA driver supports, e.g. '12.4'"
    )
    glibc: VersionText | None = Field(default=None, description="minimum glibc on Linux, e.g. '2.28'")


class Thresholds(StrictModel):
    """Acceptance limits; unset values take the per-device defaults of the benchmark reference."""

    min_fraction_of_peak: float | None = Field(default=None, ge=0, le=1)
    min_speedup_vs_cpu: float | None = Field(default=None, ge=0)
    min_tflops: float | None = Field(default=None, ge=0)
    max_normalized_error: float | None = Field(default=None, gt=0)


class Acceptance(StrictModel):
    """Which benchmark proves this environment, on which device, against which limits."""

    benchmarks: list[Framework] = Field(default_factory=list)
    device: Device = "auto"
    thresholds: Thresholds = Field(default_factory=Thresholds)


class Variant(StrictModel):
    """One variant of a profile (e.g. `cpu`, `cuda`): these keys are layered over the profile's own by
    the rules of `extends:`. Every variant is locked with the others, so the packages they share have
    one version in all of them (a solve group, as pixi's solve-group)."""

    description: str = ""
    conda: list[CondaSpec] = Field(default_factory=list, description="conda MatchSpecs, replacing by name")
    pypi: Pypi = Field(default_factory=Pypi)
    targets: dict[Platform, PlatformDependencies] = Field(default_factory=dict)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    requires: Requires = Field(default_factory=Requires)
    virtual_packages: dict[Platform, dict[VirtualName, Text]] = Field(default_factory=dict)
    acceptance: Acceptance = Field(default_factory=Acceptance)


class Profile(StrictModel):
    """One profile file as written, or (after `extends:`) the resolved profile."""

    name: Annotated[str, _matching(grammar.PROFILE_NAME, "profile name", "torch-mps")]
    description: str = ""
    extends: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    abstract: bool = Field(default=False, description="only for extending; never rendered, locked or applied")
    kind: Kind = Field(
        default="conda",
        description="conda: interpreter and native libraries from conda channels; venv: PyPI layer only",
    )
    platforms: list[Platform] = Field(default_factory=list)
    python: PythonVersion | None = None
    channels: list[Channel] = Field(default_factory=list)
    conda: list[CondaSpec] = Field(default_factory=list, description="conda MatchSpecs")
    pypi: Pypi = Field(default_factory=Pypi)
    targets: dict[Platform, PlatformDependencies] = Field(
        default_factory=dict, description="per-platform packages, added to (or replacing by name) the common ones"
    )
    brew: Brew = Field(default_factory=Brew)
    nix: list[NixAttr] = Field(default_factory=list, description="nixpkgs attributes for the devShell")
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    requires: Requires = Field(default_factory=Requires)
    virtual_packages: dict[Platform, dict[VirtualName, Text]] = Field(
        default_factory=dict, description="overrides the virtual packages derived from `requires`"
    )
    acceptance: Acceptance = Field(default_factory=Acceptance)
    variants: dict[VariantName, Variant] = Field(
        default_factory=dict,
        description="named variants (e.g. cpu, cuda), locked together; apply picks one for the host",
    )
    # Which variant this resolved profile is (profiles.with_variant sets it); never read from a file.
    _variant: str | None = PrivateAttr(default=None)

    @property
    def variant(self) -> str | None:
        return self._variant

    @property
    def lock_name(self) -> str:
        """What is locked and rendered as one unit: `torch-linux`, or `torch-linux/cuda` for a variant
        (its files live in envs/torch-linux/cuda/)."""
        return f"{self.name}/{self._variant}" if self._variant else self.name

    def _target(self, platform: str) -> PlatformDependencies | None:
        return self.targets.get(cast(Platform, platform))  # a Platform is a plain string at run time

    def conda_for(self, platform: str) -> list[str]:
        """The conda specs of one platform: the common ones, with that platform's target merged in by name."""
        target = self._target(platform)
        return merge_by_name(list(self.conda), list(target.conda), conda_name) if target else list(self.conda)

    def pypi_for(self, platform: str) -> list[str]:
        """The PyPI requirements of one platform, merged the same way."""
        target = self._target(platform)
        packages = list(self.pypi.packages)
        return merge_by_name(packages, list(target.pypi), pypi_name) if target else packages
