"""Profiles to files the ecosystem's own tools read. Pure: text out, no I/O.

Every value is written through an escaping filter for its target language even
though the model already rejects dangerous names: two locks on the door.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

import jinja2
import yaml

from .files import header
from .layout import BOOTSTRAP
from .platforms import TABLE
from .profile.model import PLATFORM_SELECTORS, Profile

NIX_SYSTEMS = {name: names.nix_system for name, names in TABLE.items()}


@dataclass(frozen=True)
class RenderedFile:
    """A file's path relative to the project root, and its full text."""

    path: PurePosixPath
    content: str


def yaml_scalar(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...")


def ruby_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("#", "\\#")
    return f'"{escaped}"'


def nix_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def dockerfile_string(value: str) -> str:
    """A Dockerfile ENV value the builder takes literally: `$` would be expanded (`$HOME`), and
    json.dumps would write non-ASCII as `\\u` escapes the builder does not decode. Values are one
    line (profiles refuse control characters in env values)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def lua_string(value: str) -> str:
    """A Lua string literal holding exactly `value`'s UTF-8 bytes: every byte that is not plain printable
    ASCII, and every quote and backslash, is a decimal escape (`\\ddd`), so nothing can end the string."""
    safe = set(b" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~")
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in value.encode("utf-8")) + '"'


def comment_text(value: str) -> str:
    """Text inside a `#` comment of a generated script: one line whatever it holds (a newline in a
    folder name must never start a line of its own, where the shell or sbatch would read it)."""
    from .grammar import printable

    return printable(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("provision", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # YAML, Ruby and Nix, not HTML: each value goes through its own filter
    )
    env.filters.update(yaml=yaml_scalar, ruby=ruby_string, nix=nix_string)
    return env


def _render(template: str, **context: object) -> str:
    return _environment().get_template(template).render(**context)


def with_selectors(profile: Profile, specs_for: Callable[[str], list[str]]) -> list[str]:
    """Each spec once when every platform has it, else once per platform that has it, with that
    platform's selector: what `targets:` means, in the form conda and conda-lock read."""
    per_platform = {platform: specs_for(platform) for platform in profile.platforms}
    lines: list[str] = []
    for spec in dict.fromkeys(spec for specs in per_platform.values() for spec in specs):
        having = [p for p in profile.platforms if spec in per_platform[p]]
        if len(having) == len(profile.platforms):
            lines.append(yaml_scalar(spec))
        else:
            lines += [f"{yaml_scalar(spec)}  # [{PLATFORM_SELECTORS[p]}]" for p in having]
    return lines


def environment_yml(profile: Profile) -> RenderedFile:
    """A conda environment file that is also a valid conda-lock source."""
    repositories = [u for u in [profile.pypi.index_url, *profile.pypi.extra_index_urls] if u]
    text = _render(
        "environment.yml.j2",
        header=header("#", f"profiles/{profile.name}.yaml"),
        profile=profile,
        conda_lines=with_selectors(profile, profile.conda_for),
        pypi_lines=with_selectors(profile, profile.pypi_for),
        pip_repositories=repositories,
    )
    return RenderedFile(PurePosixPath("envs", profile.lock_name, "environment.yml"), text)


def brewfile(profile: Profile, path: PurePosixPath | None = None) -> RenderedFile:
    text = _render("Brewfile.j2", header=header("#", f"profiles/{profile.name}.yaml"), profile=profile)
    return RenderedFile(path or PurePosixPath("envs", profile.name, "Brewfile"), text)


def nix_python(version: str) -> str:
    """'3.11' -> the nixpkgs attribute 'python311'."""
    major, minor = version.split(".")[:2]
    return f"python{major}{minor}"


def flake(profiles: dict[str, Profile]) -> RenderedFile:
    """One devShell per profile plus `default` (the bootstrap toolchain)."""
    shells = []
    for name, profile in sorted(profiles.items()):
        packages = list(dict.fromkeys([nix_python(profile.python or "3.11"), *profile.nix]))
        shells.append({"attr": name, "packages": packages, "env": profile.env})
        if name == BOOTSTRAP:
            shells.append({"attr": "default", "packages": packages, "env": profile.env})
    systems = sorted({NIX_SYSTEMS[p] for profile in profiles.values() for p in profile.platforms})
    text = _render("flake.nix.j2", header=header("#", "profiles/*.yaml"), shells=shells, systems=systems)
    return RenderedFile(PurePosixPath("flake.nix"), text)


def schema_file() -> RenderedFile:
    from .profile.schema import profile_schema

    schema = {"$comment": "Generated by `provision render` from provision's profile model. Do not edit.",
              **profile_schema()}  # fmt: skip
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return RenderedFile(PurePosixPath("schema", "profile.schema.json"), text)


def profile_files(profile: Profile) -> list[RenderedFile]:
    """One profile's files: an environment.yml per variant (envs/NAME/VARIANT/) or its own, and its Brewfile
    (Homebrew entries are the profile's, never a variant's)."""
    from .profile.load import variant_units

    return [*(environment_yml(unit) for unit in variant_units(profile)), brewfile(profile)]


def render_project(profiles: dict[str, Profile]) -> list[RenderedFile]:
    """Every generated file of a project, from its concrete (non-abstract) profiles."""
    files: list[RenderedFile] = []
    for name, profile in sorted(profiles.items()):
        files += profile_files(profile)
        if name == BOOTSTRAP:
            files.append(brewfile(profile, PurePosixPath("Brewfile")))
    files += [flake(profiles), schema_file()]
    return files
