"""Carry out a plan. Order matters for safety:

preflight (nothing touched) -> prefix lock -> verified downloads (nothing touched) ->
remove the stamp -> brew, conda layer, PyPI layer, activation -> write the stamp.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import HostUnfit, ProvisionError, ToolFailed, UnsafeInput
from ..host import HostFacts
from ..lock.freshness import check_lock
from ..lock.mirrors import Mirrors
from ..lock.records import LockedPackage
from ..runner import run
from . import preflight
from .activation import write_activation
from .archives import check_archive
from .conda_install import install_conda
from .fetch import fetch_url, fetch_verified, staging_area
from .jupyter import register_kernel
from .plan import Plan, PlanInputs, make_plan
from .prefix_lock import prefix_lock
from .prefixes import Ownership, claim, forbidden_reason, forget, guard_prefix, ownership
from .pypi_install import create_venv, install_wheels
from .stamp import Stamp, clear_stamp, layer_hash, read_stamp, values_hash, write_stamp
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


def wanted_stamp(target: Target) -> Stamp:
    packages = target.packages
    return Stamp(
        profile=target.name,
        platform=target.platform,
        conda=layer_hash(packages, "conda"),
        pypi=layer_hash(packages, "pip"),
        activation=values_hash(target.env),
        brew=_brewfile_hash(target),
        python=target.python if target.kind == "venv" else _conda_python(packages),
    )


def _brewfile_hash(target: Target) -> str:
    if target.brewfile is None or not target.brewfile.is_file():
        return ""
    return hashlib.sha256(target.brewfile.read_bytes()).hexdigest()


def _conda_python(packages: list[LockedPackage]) -> str | None:
    return next((p.version for p in packages if p.manager == "conda" and p.name == "python"), None)


def plan_for(target: Target, host: HostFacts, options: Options) -> Plan:
    """The plan for this target; a prefix provision may not touch is refused here, so `plan` and
    `--dry-run` refuse exactly what `apply` would."""
    guard_prefix(target.prefix, target.project_root, target.kind, options.adopt)
    packages = target.packages
    entries = 0
    if target.profile is not None:
        brew = target.profile.brew
        entries = len(brew.taps) + len(brew.formulae) + len(brew.casks)
    benchmarks: list[str] = list(target.profile.acceptance.benchmarks) if target.profile else []
    return make_plan(
        PlanInputs(
            target=target.name, prefix=str(target.prefix), platform=target.platform, kind=target.kind,
            prefix_exists=target.prefix.is_dir(), stamp=read_stamp(target.prefix), wanted=wanted_stamp(target),
            conda_count=sum(p.manager == "conda" for p in packages),
            pypi_count=sum(p.manager == "pip" for p in packages),
            on_macos=host.system == "Darwin", brew_entries=entries, use_brew=options.use_brew,
            benchmarks=benchmarks, verify=options.verify, no_verify_reason=options.no_verify_reason,
        )
    )  # fmt: skip


def preflight_problems(target: Target, host: HostFacts) -> list[str]:
    """What stops an apply on this host, one line each (the lock's freshness is checked separately)."""
    platforms: list[str] = list(target.profile.platforms) if target.profile else target.lock.platforms
    problems = preflight.host_problems(target.profile, host, platforms)
    if not problems:
        free = shutil.disk_usage(_existing_parent(target.prefix)).free
        disk = preflight.disk_problem(target.lock.download_bytes(target.platform), free)
        problems += [disk] if disk else []
    return problems


def check_preflight(target: Target, host: HostFacts) -> None:
    """Raise with every problem found; nothing has been touched yet."""
    sdists = [p.file_name for p in target.packages if p.manager == "pip" and not p.file_name.endswith(".whl")]
    if sdists:
        raise ProvisionError(
            f"{target.lock_path}: {sdists[0]} is a source distribution; provision installs locked wheels only "
            "(building at install time is not reproducible); lock it with --only-binary, e.g. `provision lock`."
        )
    problems = preflight_problems(target, host)
    if problems:
        raise HostUnfit(f"{target.name}: cannot apply here: " + "; ".join(problems) + ".")
    if target.profile is not None:
        statuses = check_lock(target.profile, target.lock_path, str(target.lock_path))
        stale = preflight.lock_problem(next((s for s in statuses if s.platform == target.platform), None))
        if stale:
            raise ProvisionError(f"{target.lock_path}: {stale}.")


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _test_kill_point(step: str) -> None:
    # Test hook: the kill-safety tests SIGKILL this process at a named step to prove that an
    # interrupted apply never leaves a stamp claiming success. Inert unless the variable is set.
    if os.environ.get("PROVISION_TEST_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def apply_target(
    target: Target, host: HostFacts, options: Options, mirrors: Mirrors, cache: Path, say: Say, tick: Say | None = None
) -> Plan:
    """Make the prefix match the lock; returns the plan that was carried out.

    `say` reports each step; `tick` each package (a terminal shows it, plain logs leave it out)."""
    check_preflight(target, host)
    with prefix_lock(target.prefix, options.wait, say):
        plan = plan_for(target, host, options)  # again under the lock: another apply may have finished
        if plan.up_to_date:
            if options.jupyter:  # registering is cheap and idempotent; a no-op apply can still do it
                say(f"jupyter: kernel registered at {register_kernel(target.name, target.prefix, target.env)}")
            return plan
        if plan.step("brew").acts:
            _brew(target)
        if any(p.manager == "conda" for p in target.packages):
            mirrors.require(target.lock.channels)
        with staging_area(cache / "artifacts") as staging:
            local = _fetch_all(target, mirrors, cache / "artifacts", staging, say, tick or (lambda message: None))
            _test_kill_point("fetched")
            # Nothing has changed yet; from here on the prefix may, so no stamp may claim success.
            clear_stamp(target.prefix)
            claim(target.prefix, target.name)
            if plan.step("environment").acts or plan.step("pypi").acts:
                _environment(target, local, staging, say)
                _test_kill_point("environment")
                say(f"pypi: installing {sum(p.manager == 'pip' for p in target.packages)} locked wheels")
                install_wheels(target.prefix, [(p, local[p.url]) for p in target.packages if p.manager == "pip"])
                _test_kill_point("pypi")
        write_activation(target.prefix, target.env)
        if options.jupyter:
            say(f"jupyter: kernel registered at {register_kernel(target.name, target.prefix, target.env)}")
        write_stamp(target.prefix, wanted_stamp(target))
    return plan


def _environment(target: Target, local: dict[str, Path], staging: Path, say: Say) -> None:
    if target.kind == "venv":
        say(f"environment: venv with Python {target.python} at {target.prefix}")
        create_venv(target.prefix, target.python)
        return
    conda = [(p, local[p.url]) for p in target.packages if p.manager == "conda"]
    say(f"environment: linking {len(conda)} conda packages into {target.prefix}")
    # rattler extracts into a cache of this apply's own: an extracted-package cache kept between
    # applies would be trusted by name, so a file edited there would be linked into new prefixes.
    install_conda(target.prefix, conda, target.lock.channels, staging / "rattler")


def _fetch_all(target: Target, mirrors: Mirrors, cache: Path, staging: Path, say: Say, tick: Say) -> dict[str, Path]:
    """Each artifact staged and verified against the lock, its members checked, before any change."""
    packages = target.packages
    say(f"download: {len(packages)} packages, each checked against the lock's hashes")
    local = {}
    for index, package in enumerate(packages, 1):
        tick(f"download {index}/{len(packages)}: {package.file_name}")
        source = fetch_url(package, target.lock.channels, mirrors)
        local[package.url] = fetch_verified(package, source, cache, staging, say)
        check_archive(local[package.url], package.name)
    return local


def _brew(target: Target) -> None:
    brew = shutil.which("brew")
    if brew is None:
        raise HostUnfit(
            'Homebrew is not installed: run /bin/bash -c "$(curl -fsSL '
            'https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)", or pass --no-brew.'
        )
    brewfile = str(target.brewfile)
    if run([brew, "bundle", "check", "--no-upgrade", "--file", brewfile], check=False).returncode != 0:
        run([brew, "bundle", "--no-upgrade", "--file", brewfile])


def remove_prefix(prefix: Path, wait: bool, say: Say) -> None:
    """Delete an environment provision created (recorded outside the prefix), and nothing else."""
    reason = forbidden_reason(prefix, None)
    if reason:
        raise UnsafeInput(f"{prefix}: refused: {reason}; nothing was removed.")
    owner = ownership(prefix)
    if owner is Ownership.ABSENT:
        raise ProvisionError(f"{prefix}: no environment here; nothing to remove.")
    if owner is not Ownership.OURS:
        raise UnsafeInput(f"{prefix}: not created by provision (no record of it outside the folder); left as it is.")
    with prefix_lock(prefix, wait, say):
        try:
            shutil.rmtree(prefix)
        except OSError as exc:
            raise ToolFailed(f"{prefix}: could not remove it completely ({exc.strerror}).") from exc
        forget(prefix)
