"""What an apply works from, gathered once: the options, the stamp wanted, the drift between the
lock and the prefix, the preflight problems. `plan` and `apply --dry-run` use exactly this."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import HostUnfit, ProvisionError
from ..layout import input_files, inputs_digest, listing_fingerprint
from ..lock.freshness import lock_statuses
from ..machine.facts import HostFacts
from . import preflight
from .activation import activation_current
from .drift import Drift, compare, file_drift
from .plan import Plan, PlanInputs, make_plan
from .prefixes import guard_prefix
from .stamp import Stamp, layer_hash, read_stamp
from .state import InstalledState, read_state
from .target import Target

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    use_brew: bool = True
    verify: bool = True
    no_verify_reason: str = "--no-verify"  # what the plan says when verify is off
    wait: bool = True
    jupyter: bool = False  # register a Jupyter kernel (opt-in)
    adopt: bool = False  # take over an existing environment of the same kind that provision did not create
    keep_extras: bool = False  # leave packages installed outside the lock in place (they still show in status)
    check_files: bool = False  # hash every installed file (status --files, apply --repair-files)


def finished_stamp(target: Target) -> Stamp:
    """The stamp a finished change writes: what the environment now is, read from the prefix (once more:
    the change is what it looks at)."""
    from .accounting import own_files

    seen = observe(target, trust_fingerprint=False)
    return replace(target.wanted, fingerprint=seen.fingerprint, exact=not seen.drift, inputs=_inputs(target),
                   own=own_files(target.prefix))  # fmt: skip


def refreshed_stamp(target: Target, seen: Observation) -> Stamp | None:
    """For a no-op: the stamp with what an unrelated edit (another profile, a comment) changed re-recorded, so
    the next no-op takes the quick path again; None when it needs no rewrite. Nothing changed in the prefix, so
    the look the plan took is the truth (no second scan) and provision's own files keep their record."""
    stamp = seen.stamp
    if stamp is None:
        return None
    fresh = replace(stamp, fingerprint=seen.fingerprint, exact=not seen.drift, inputs=_inputs(target))
    return fresh if fresh != stamp else None


def _inputs(target: Target) -> str:
    if not target.intent.inputs_tracked or target.project_root is None:
        return ""
    return inputs_digest(input_files(target.project_root, target.name))


def environment_fingerprint(target: Target) -> dict[str, object]:
    """What `verify --report` records so a team can see whose environment differs from its lock:
    the lock's hash, a hash of what is installed, and the differences."""
    import json

    seen = observe(target, trust_fingerprint=False)
    state, drift = seen.state, seen.drift
    installed = sorted([("conda", r.name, r.version, r.build) for r in state.conda.values()]
                       + [("pypi", d.name, d.version, d.installer) for d in state.pypi.values()])  # fmt: skip
    return {
        "lock_sha256": hashlib.sha256(target.lock_path.read_bytes()).hexdigest(),
        "layers": {"conda": layer_hash(target.packages, "conda"), "pypi": layer_hash(target.packages, "pip")},
        "installed_sha256": hashlib.sha256(json.dumps(installed).encode()).hexdigest(),
        "matches_lock": not drift,
        "differences": [d.line() for d in drift],
    }


@dataclass(frozen=True)
class Observation:
    """One look at a prefix: its stamp, what it holds and how that differs from the lock. An apply takes it
    once, plans from it and, under the prefix lock, takes it again only if the listings moved meanwhile."""

    stamp: Stamp | None
    state: InstalledState
    drift: list[Drift]
    fingerprint: str  # the listings' fingerprint (layout.py) at this look
    activation_current: bool

    def still_current(self, target: Target) -> bool:
        """Nothing installed, removed or re-stamped since this look (a few stat calls and one small read)."""
        return read_stamp(target.prefix) == self.stamp and listing_fingerprint(target.prefix) == self.fingerprint


def observe(
    target: Target, check_files: bool = False, trust_fingerprint: bool = True, account: bool = False,
) -> Observation:  # fmt: skip
    """The prefix's real state and how it differs from the lock. For apply's plan (`trust_fingerprint`):
    when the listings are exactly as the last finished apply left them (same fingerprint, same lock), the
    records need not be parsed again; the fingerprint is names, sizes and times, so `status` (which must
    prove, not guess) reads the records. `account`: also every file of no package (accounting.py)."""
    stamp = read_stamp(target.prefix)
    fingerprint = listing_fingerprint(target.prefix)
    current = activation_current(target.prefix, target.env)
    if (
        trust_fingerprint
        and not check_files
        and stamp is not None
        and stamp.exact
        and stamp.fingerprint == fingerprint
        and stamp.same_lock(target.wanted)
    ):
        return Observation(stamp, InstalledState(exists=True, python_version=stamp.python), [], fingerprint, current)
    state = read_state(target.prefix)
    drift = compare(target.packages, state, target.editable_names) if state.exists else []
    if check_files and state.exists:
        drift += file_drift(target.prefix, state)
    if account and state.exists:
        from .accounting import unaccounted

        drift += unaccounted(target.prefix, state, stamp.own if stamp is not None else None)
    return Observation(stamp, state, drift, fingerprint, current)


def look_and_plan(target: Target, host: HostFacts, options: Options) -> tuple[Observation, Plan]:
    """One look at the prefix and the plan made from it. A prefix provision may not touch is refused first,
    before anything in it is read, so `plan` and `--dry-run` refuse exactly what `apply` would."""
    guard_prefix(target.prefix, target.project_root, target.kind, options.adopt)
    seen = observe(target, options.check_files)
    return seen, _plan(target, host, options, seen)


def _plan(target: Target, host: HostFacts, options: Options, seen: Observation) -> Plan:
    return make_plan(
        PlanInputs(
            target=target.label, prefix=str(target.prefix), platform=target.platform, kind=target.kind,
            prefix_exists=seen.state.exists, stamp=seen.stamp, wanted=target.wanted, drift=seen.drift,
            installed_python=seen.state.python_version, activation_current=seen.activation_current,
            packages=target.packages, on_macos=host.system == "Darwin", brew_entries=target.intent.brew_entries,
            use_brew=options.use_brew, benchmarks=list(target.benchmarks), verify=options.verify,
            no_verify_reason=options.no_verify_reason, jupyter=options.jupyter, keep_extras=options.keep_extras,
        )
    )  # fmt: skip


def preflight_problems(target: Target, host: HostFacts) -> list[str]:
    """What stops an apply on this host, one line each (the lock's freshness is checked separately)."""
    problems = preflight.host_problems(target.intent.requires, host, target.platforms)
    required = bool(target.intent.requires.cuda_driver)  # then said by the requirement's own check
    problems += preflight.cuda_problem(target.packages, host, say_missing_driver=not required)
    if not problems:
        usage = shutil.disk_usage(_existing_parent(target.prefix))
        disk = preflight.disk_problem(target.lock.download_bytes(target.platform), usage.free, usage.total,
                                      str(target.prefix))  # fmt: skip
        problems += [disk] if disk else []
    return problems


def preflight_warnings(target: Target, host: HostFacts) -> list[str]:
    return preflight.host_warnings(target.intent.requires, host, target.platforms)


def check_preflight(target: Target, host: HostFacts) -> None:
    """Raise with every problem found; nothing has been touched yet."""
    sdists = [p.file_name for p in target.packages
              if p.manager == "pip" and p.git_commit is None and not p.file_name.endswith(".whl")]  # fmt: skip
    if sdists:
        raise ProvisionError(
            f"{target.lock_path}: {sdists[0]} is a source distribution; provision installs locked wheels only "
            "(building at install time is not reproducible); lock it with --only-binary, e.g. `provision lock`."
        )
    problems = preflight_problems(target, host)
    if problems:
        raise HostUnfit(f"{target.label}: cannot apply here: " + "; ".join(problems) + ".")
    if target.profile is not None:  # a lockfile of anyone's has no profile to be fresh against
        statuses = lock_statuses(target.profile, target.lock)  # the lock already read, not the file again
        stale = preflight.lock_problem(next((s for s in statuses if s.platform == target.platform), None))
        if stale:
            raise ProvisionError(f"{target.lock_path}: {stale}.")


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path
