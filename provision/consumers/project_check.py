"""One check of a project, shared: every profile valid, every generated file current, every lock fresh. No
solving, no network. `check` prints all of it, `doctor` says in one finding whether the project it runs in
is sound, and `lock --check` and an apply's preflight hold locks to the same freshness rules
(lock/freshness.py), from which this check's lock problems come."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProfileError
from ..layout import lock_path
from ..lock.freshness import check_units
from ..profile.model import Profile
from ..project import Project


@dataclass(frozen=True)
class Problem:
    kind: str  # profile, render or lock
    where: str
    problem: str  # with the command that mends it

    def line(self) -> str:
        return f"{self.kind:<8} {self.where}: {self.problem}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "problem": self.problem}


@dataclass(frozen=True)
class ProjectCheck:
    valid: dict[str, Profile]  # every profile that loaded, by name (abstract ones too)
    locks: int  # platform locks checked
    problems: list[Problem]


def check_project(project: Project) -> ProjectCheck:
    from ..generated import find_drift
    from ..profile.load import load_profile, variant_units
    from ..render import render_project

    problems: list[Problem] = []
    profiles = {}
    names = project.profile_names()
    for name in names:
        try:
            profiles[name] = load_profile(project, name)
        except ProfileError as exc:
            problems.append(Problem("profile", f"profiles/{name}.yaml", exc.message))
    concrete = {n: p for n, p in profiles.items() if not p.abstract}
    units = [unit for _, profile in sorted(concrete.items()) for unit in variant_units(profile)]
    if len(profiles) == len(names):  # rendering needs every profile valid
        for drift in find_drift(project, render_project(concrete), [u.lock_name for u in units]):
            what = "out of date" if drift.reason == "changed" else drift.reason
            problems.append(Problem("render", drift.path, f"{what}; run `provision render`"))
    for status in check_units(project.root, units):
        problems += [Problem("lock", f"{lock_path(status.profile)} [{status.platform}]",
                             f"{reason}; run `provision lock {status.profile.split('/')[0]}`")
                     for reason in status.reasons]  # fmt: skip
    return ProjectCheck(profiles, sum(len(unit.platforms) for unit in units), problems)
