"""Carry out exactly the plan's steps and walk its work lists. Order matters for safety:

preflight (nothing touched) -> prefix lock -> the plan again only if the prefix moved since it was made
(another apply finished meanwhile) -> verified, staged downloads with their members checked (nothing
touched) -> remove the stamp -> brew, conda layer, PyPI layer, activation -> write the stamp (with the
new fingerprint) -> Jupyter -> verify.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import HostUnfit, ProvisionError, ToolFailed, UnsafeInput
from ..lock.mirrors import Mirrors
from ..machine.facts import HostFacts
from ..runner import run
from .activation import write_activation
from .archives import check_archive
from .backup import backup_path, kept_until_done, restore_interrupted
from .conda_install import install_conda
from .editable import install_editables
from .fetch import cache_key, fetch_url, fetch_verified, staging_area
from .inputs import Observation, Options, check_preflight, finished_stamp, look_and_plan, refreshed_stamp
from .jupyter import register_kernel
from .plan import Plan, StepName
from .prefix_lock import prefix_lock
from .prefixes import Ownership, claim, forbidden_reason, forget, ownership
from .pypi_install import create_venv, env_python, install_wheels
from .registry import register, unregister
from .stamp import clear_stamp, write_stamp
from .target import Target

Say = Callable[[str], None]


def _test_kill_point(step: str) -> None:
    # Test hook: the kill-safety tests SIGKILL this process at a named step to prove that an
    # interrupted apply never leaves a stamp claiming success. Inert unless the variable is set.
    if os.environ.get("PROVISION_TEST_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def apply_target(
    target: Target, host: HostFacts, options: Options, mirrors: Mirrors, cache: Path, say: Say,
    planned: tuple[Observation, Plan], tick: Say | None = None,
) -> Plan:  # fmt: skip
    """Make the prefix match the lock; returns the plan carried out (the command then runs its verify step, if it
    acts: apply installs, bench proves, the command composes them).

    `planned`: the look the caller took (look_and_plan, which refused a prefix provision may not touch) and the
    plan made from it. `say` reports each step; `tick` each package (a terminal shows it, plain logs leave it out)."""
    check_preflight(target, host)
    with prefix_lock(target.prefix, options.wait, say):
        restore_interrupted(target.prefix, say)
        if not planned[0].still_current(target):  # another apply may have finished meanwhile
            planned = look_and_plan(target, host, options)
        seen, plan = planned
        if not plan.up_to_date:
            _change(target, plan, options, mirrors, cache, say, tick or (lambda message: None))
        else:
            fresh = refreshed_stamp(target, seen)
            if fresh is not None:
                write_stamp(target.prefix, fresh)
        if plan.step(StepName.JUPYTER).acts:
            say(f"jupyter: kernel registered at {register_kernel(target.name, target.prefix, target.env)}")
    return plan


def _change(target: Target, plan: Plan, options: Options, mirrors: Mirrors, cache: Path, say: Say, tick: Say) -> None:
    if plan.step(StepName.BREW).acts:
        _brew(target)
    environment, pypi = plan.step(StepName.ENVIRONMENT).acts, plan.step(StepName.PYPI).acts
    if environment and target.offline is None and any(p.manager == "conda" for p in target.packages):
        mirrors.require(target.lock.channels)
    with staging_area(cache / "artifacts") as staging:
        local = _fetch_all(target, list(plan.fetch), mirrors, cache / "artifacts", staging, say, tick)
        _test_kill_point("fetched")
        with kept_until_done(target.prefix, say):
            # Nothing has changed yet; from here on the prefix may, so no stamp may claim success.
            clear_stamp(target.prefix)
            claim(target.prefix, target.name)
            if environment:
                _environment(target, plan, options, local, staging, say)
                _test_kill_point("environment")
            if pypi:
                _pypi(target, plan, local, say)
                _test_kill_point("pypi")
            write_activation(target.prefix, target.env)
            write_stamp(target.prefix, finished_stamp(target))
        if target.kind == "conda":
            register(target.prefix)


def _pypi(target: Target, plan: Plan, local: dict[str, Path], say: Say) -> None:
    wheels = [(p, local[p.url]) for p in target.packages if p.manager == "pip" and p.git_commit is None]
    git = tuple(p for p in target.packages if p.git_commit is not None)
    say(_pypi_line(plan, len(wheels) + len(git), len(git)))
    again = install_wheels(target.prefix, wheels, reinstall=set(plan.pypi.reinstall), remove=set(plan.pypi.remove),
                           git=git, installing=plan.pypi.install | plan.pypi.reinstall,
                           python_version=target.wanted.python)  # fmt: skip
    if again:
        say(f"pypi: uv's cache held other files than the verified wheel of {', '.join(again)}; installed again from "
            f"the wheel (`uv cache clean {' '.join(again)}` clears that copy)")
    if target.editables:
        say(f"pypi: {len(target.editables)} editable project(s): {', '.join(e.name for e in target.editables)}")
        install_editables(env_python(target.prefix), target.editables)


def _pypi_line(plan: Plan, locked: int, from_git: int) -> str:
    """What the PyPI step does, in numbers: what it installs (everything on a new environment, else what
    is missing or differs: the plan's work) and what it removes; never "installing 6" when it only removes one."""
    changing, removing = plan.pypi.changing, len(plan.pypi.remove)
    pinned = f"; {from_git} from git at their locked commits" if from_git else ""
    parts = [f"installing {changing} of {locked} locked packages (hashes required{pinned})"] if changing else []
    parts += [f"removing {removing} outside the lock"] if removing else []
    return "pypi: " + (", ".join(parts) or f"all {locked} locked packages already installed")


def _environment(target: Target, plan: Plan, options: Options, local: dict[str, Path], staging: Path, say: Say) -> None:
    if target.kind == "venv":
        say(f"environment: venv with Python {target.python} at {target.prefix}")
        create_venv(target.prefix, target.python)
        return
    conda = [(p, local[p.url]) for p in target.packages if p.manager == "conda"]
    say(f"environment: linking {len(conda)} conda packages into {target.prefix}")
    # rattler extracts into a cache of this apply's own: an extracted-package cache kept between
    # applies would be trusted by name, so a file edited there would be linked into new prefixes.
    install_conda(target.prefix, conda, target.lock.channels, staging / "rattler",
                  reinstall=set(plan.conda.reinstall), keep=set(plan.conda.keep))  # fmt: skip


FETCHERS = 4  # artifacts fetched and checked at once: downloads wait on the network, hashing releases the GIL


def _fetch_all(
    target: Target, packages: list[Any], mirrors: Mirrors, cache: Path, staging: Path, say: Say, tick: Say
) -> dict[str, Path]:
    """Each artifact staged and verified against the lock, its members checked, before any change. Several at
    once; the first failure stops the rest from starting and is raised, with nothing changed yet."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    if not packages:  # a change with nothing to fetch (say, activation scripts rewritten) says nothing of fetching
        return {}
    origin = "from the pack" if target.offline is not None else "download"
    say(f"{origin}: {len(packages)} packages, each checked against the lock's hashes")
    notes: list[str] = []  # said from this thread, in order, not from the workers

    def one(package: Any) -> Path:
        if target.offline is not None:
            # A pack: its own copy is what is checked (a good copy in the cache would hide a tampered pack).
            source = str(target.offline / cache_key(package) / package.file_name)
            path = fetch_verified(package, source, staging / "from-pack", staging, notes.append)
        else:
            path = fetch_verified(package, fetch_url(package, target.lock.channels, mirrors), cache, staging,
                                  notes.append)  # fmt: skip
        check_archive(path, package.name)
        return path

    # One worker per artifact file: two entries naming the same file would otherwise write one staged copy twice.
    unique = {(cache_key(p), p.file_name): p for p in packages}
    local: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=FETCHERS, thread_name_prefix="provision-fetch") as pool:
        pending = {pool.submit(one, package): key for key, package in unique.items()}
        done_files: dict[tuple[str, str], Path] = {}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)  # a line as each one is done
            for future in finished:
                key = pending.pop(future)
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise error
                done_files[key] = future.result()
                tick(f"download {len(done_files)}/{len(unique)}: {key[1]}")
            while notes:
                say(notes.pop(0))
    for package in packages:
        local[package.url] = done_files[(cache_key(package), package.file_name)]
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
        shutil.rmtree(backup_path(prefix), ignore_errors=True)  # what an interrupted apply kept aside
        try:
            shutil.rmtree(prefix)
        except OSError as exc:
            raise ToolFailed(f"{prefix}: could not remove it completely ({exc.strerror}).") from exc
        forget(prefix)
        unregister(prefix)
