"""Load profiles: parse YAML, validate each file, resolve `extends:`, check the result.

Errors name the file and line where the user has to make the change. A problem that
only appears after merging (a package in both layers) is reported against the
profile being resolved, at the line of the offending entry when it is in that file.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ProfileError
from ..project import Project
from .merge import conda_name, pypi_name
from .model import Profile
from .names import CONDA_TO_PYPI
from .resolve import resolve_raw
from .yamlsrc import Location, SourceDoc


def load_profile(project: Project, name: str, docs: dict[str, SourceDoc] | None = None) -> Profile:
    """The resolved profile `name`, with every `extends:` applied and all rules checked.

    `docs` caches parsed and validated files across calls (see load_all)."""
    docs = {} if docs is None else docs
    merged = resolve_raw(project, name, docs, check=_check_file)
    leaf = docs[name]
    profile = _validate(merged, leaf)
    _check_resolved(profile, leaf)
    for variant in profile.variants:
        try:
            _check_resolved(with_variant(profile, variant), leaf)
        except ProfileError as exc:  # the same rules, said of the variant that breaks them
            raise leaf.error(("variants", variant), f"variant {variant}: {exc.problem}", exc.fix) from None
    return profile


def with_variant(profile: Profile, variant: str) -> Profile:
    """The profile as variant `variant` makes it: the variant's keys layered over the profile's own by the
    rules of `extends:` (merge.py). The result is locked, rendered and applied as `profile.lock_name`."""
    from .merge import merge_profile

    base = profile.model_dump(exclude={"variants"})
    overlay = profile.variants[variant].model_dump(exclude_unset=True)
    if not overlay.get("description"):
        overlay.pop("description", None)
    merged = merge_profile(base, overlay)
    merged["name"] = profile.name
    resolved = Profile.model_validate(merged)
    resolved._variant = variant
    return resolved


def variant_units(profile: Profile) -> list[Profile]:
    """What a profile locks: itself, or each of its variants in the order declared (the first is the solve
    group's reference: the others take its versions of the packages they share)."""
    return [with_variant(profile, v) for v in profile.variants] or [profile]


def lock_units(project: Project) -> dict[str, Profile]:
    """Every unit rendered and locked, by lock name (`linux-cpu`, `torch-linux/cuda`, ...)."""
    return {unit.lock_name: unit for profile in concrete_profiles(project).values() for unit in variant_units(profile)}


def load_all(project: Project) -> dict[str, Profile]:
    docs: dict[str, SourceDoc] = {}
    return {name: load_profile(project, name, docs) for name in project.profile_names()}


def concrete_profiles(project: Project) -> dict[str, Profile]:
    """Profiles that are rendered, locked and applied (abstract ones are only extended)."""
    return {name: p for name, p in load_all(project).items() if not p.abstract}


def _check_file(doc: SourceDoc) -> None:
    # Each file is validated on its own first, so an error points at the file that has it.
    _validate(doc.data, doc)


def _validate(data: dict[str, Any], doc: SourceDoc) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        loc, message = _describe(errors[0])
        problem, _, fix = message.partition("; ")
        if len(errors) > 1:
            fix += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this file)"
        raise doc.error(loc, problem, fix.strip()) from None


def _describe(error: Any) -> tuple[Location, str]:
    loc: Location = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"allowed keys: {', '.join(allowed)}"
        message = f"unknown key {loc[-1]!r}; {hint}"
    elif kind == "missing":
        message = "this key is required"
    elif kind == "literal_error":
        message = f"{error.get('input')!r} is not accepted; {message[0].lower()}{message[1:]}"
    return loc, message


def _fields_at(loc: Location) -> list[str]:
    """Field names of the model found at `loc` (for did-you-mean on unknown keys)."""
    model: type[BaseModel] = Profile
    mapping = False  # the last step was a dict of models (variants, targets): the next part is a key
    for part in loc:
        if mapping:
            mapping = False
            continue
        if isinstance(part, int) or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *typing.get_args(annotation)]
        if typing.get_origin(annotation) is dict:  # dict[Name, Model]: the model is the value's
            value = typing.get_args(annotation)[1]
            candidates = [*candidates, value, *typing.get_args(value)]
            mapping = True
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return sorted(model.model_fields)


def _check_resolved(profile: Profile, leaf: SourceDoc) -> None:
    """Rules that only make sense once every parent has been merged in."""

    def fail(loc: Location, message: str) -> typing.NoReturn:
        problem, _, fix = message.partition("; ")
        raise leaf.error(loc, problem, fix)

    if profile.abstract:
        return
    if not profile.platforms:
        fail(("platforms",), "a profile needs at least one platform (osx-arm64, linux-64, linux-aarch64)")
    if profile.python is None:
        fail(("python",), 'set the Python version, e.g. python: "3.11"')
    for platform in profile.targets:
        if platform not in profile.platforms:
            fail(("targets", platform), f"{platform} is not in platforms: {profile.platforms}; add it there or drop it")
    if profile.kind == "venv":
        if profile.conda:
            fail(
                ("conda",), "a venv profile has no conda layer; move these packages to pypi.packages or use kind: conda"
            )
        for platform, target in profile.targets.items():
            if target.conda:
                fail(("targets", platform, "conda"), "a venv profile has no conda layer; move these to targets."
                     f"{platform}.pypi or use kind: conda")  # fmt: skip
    elif not profile.channels:
        fail(("channels",), "a conda profile needs at least one channel, e.g. channels: [conda-forge]")
    for platform in profile.platforms:
        _one_layer_per_package(profile, platform, fail)
    everywhere = {pypi_name(r) for platform in profile.platforms for r in profile.pypi_for(platform)}
    for package, index in profile.pypi.sources.items():
        if index not in profile.pypi.indexes:
            known = ", ".join(profile.pypi.indexes) or "none"
            fail(("pypi", "sources", package), f"no index named {index!r} (pypi.indexes has {known}); add it there")
        if pypi_name(package) not in everywhere:
            fail(("pypi", "sources", package), f"{package!r} is not in pypi.packages; add it there or drop the source")
    for platform in profile.virtual_packages:
        if platform not in profile.platforms:
            fail(("virtual_packages", platform), f"{platform} is not in platforms: {profile.platforms}")


def _one_layer_per_package(profile: Profile, platform: str, fail: Callable[[Location, str], typing.NoReturn]) -> None:
    """A package must never come from both layers on any platform, per-platform targets included."""
    by_pypi_name = {pypi_name(r): r for r in profile.pypi_for(platform)}
    for spec in profile.conda_for(platform):
        name = conda_name(spec)
        requirement = by_pypi_name.get(CONDA_TO_PYPI.get(name, name))
        if requirement is None:
            continue
        common = spec in profile.conda
        where: Location = ("conda", profile.conda.index(spec)) if common else ("targets", platform, "conda")
        other = (f"pypi.packages[{profile.pypi.packages.index(requirement)}]" if requirement in profile.pypi.packages
                 else f"targets.{platform}.pypi")  # fmt: skip
        fail(where, f"{name!r} is declared in both layers on {platform} (also {other}); "
             "keep it in one, a package must never come from both")  # fmt: skip


DEFAULT_GLIBC = "2.28"


def virtual_packages(profile: Profile, platform: str) -> dict[str, str]:
    """Virtual packages the solver assumes for `platform`: from `requires`, unless given explicitly.

    `__cuda` only appears when the profile requires a CUDA driver, so CPU profiles
    can never resolve to CUDA builds (conda-lock#426).
    """
    if platform in profile.virtual_packages:
        return dict(profile.virtual_packages[platform])
    derived: dict[str, str] = {"__unix": "0"}
    if platform.startswith("osx"):
        derived["__osx"] = profile.requires.macos or "11.0"
        if platform == "osx-arm64":
            derived["__archspec"] = "1=arm64"
    else:
        # conda-lock's defaults (default-virtual-packages.yaml, v3+: __linux 5.10, __glibc 2.28) and pixi's
        # (system-requirements: libc glibc 2.28): conda-forge's CUDA builds need __glibc >= 2.28, so an
        # older default silently locks CPU builds for a GPU profile.
        derived["__linux"] = "5.10"
        derived["__glibc"] = profile.requires.glibc or DEFAULT_GLIBC
        if profile.requires.cuda_driver:
            derived["__cuda"] = profile.requires.cuda_driver
    return derived
