"""One exception family for everything a user can get wrong or a host can lack.

Each error carries the one line we print and the exit code from the table below,
so the CLI never has to guess how to report a failure.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every command; the README repeats this table."""

    OK = 0
    INVALID_INPUT = 1  # a profile, lock or option value is wrong, or a check found stale files
    USAGE = 2  # unknown command or option (click's own convention)
    HOST_UNFIT = 3  # this machine does not meet the profile's requirements
    ACCEPTANCE_FAILED = 4  # the environment installed but its benchmark verdict is FAIL
    TOOL_FAILED = 5  # an external tool or solver failed (uv, brew, the conda solver, ...)
    BUSY = 6  # another apply holds the environment and --no-wait was given
    INTERRUPTED = 130  # Ctrl-C


class ProvisionError(Exception):
    """Base class: `message` is one line that names the file, the place and the fix."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LocatedError(ProvisionError):
    """Bad input in a file: where (path, line, column, dotted location), what is wrong, and the fix.
    The one line users read is rendered from these fields, so every such error reads the same way."""

    def __init__(
        self, path: str, problem: str, fix: str = "", line: int | None = None, column: int | None = None,
        loc: str = "",
    ) -> None:  # fmt: skip
        self.path, self.problem, self.fix, self.line, self.column, self.loc = str(path), problem, fix, line, column, loc
        where = self.path + (f":{line}:{column or 1}" if line else "")
        super().__init__(where + (f": {loc}" if loc else "") + f": {problem}" + (f"; {fix}" if fix else ""))


class ProjectNotFound(LocatedError):
    """No `profiles/` folder here or above: not an error of any profile (doctor and mirrors go on)."""


class ProfileError(LocatedError):
    """A profile file cannot be read, parsed or validated."""


class ProfileNotFound(ProfileError):
    """A profile name that has no file in `profiles/`."""


class LockfileError(LocatedError):
    """A lockfile (ours or a foreign one) is unreadable or fails validation; nothing was fetched or changed."""

    def __init__(self, path: str, problem: str, fix: str, loc: str = "") -> None:
        super().__init__(path, problem, fix, loc=loc)


class ConfigError(LocatedError):
    """A setting (user config file, environment variable, --mirror) is malformed."""


class FactsError(ProvisionError):
    """A saved facts folder holds a file that cannot be read or parsed."""


class UnsafeInput(ProvisionError):
    """An input would reach a path, a prefix or an installer in a way provision refuses."""


class CheckFailed(ProvisionError):
    """A freshness or consistency check found problems (the details were already printed)."""


class HostUnfit(ProvisionError):
    exit_code = ExitCode.HOST_UNFIT


class AcceptanceFailed(ProvisionError):
    exit_code = ExitCode.ACCEPTANCE_FAILED


class TeamSideMissing(ProvisionError):
    """A command only a team machine runs (writing a lock, drawing a chart), run where its package is missing:
    a node's packed provision, which carries what a node needs to apply and verify (bootstrap.TEAM_SIDE)."""

    def __init__(self, purpose: str, package: str) -> None:
        super().__init__(
            f"{purpose} needs {package}, which is not installed here (a pack carries what a node needs to apply "
            f"and verify, not this); run it where provision was installed with pip, or `pip install {package}`."
        )


class ToolFailed(ProvisionError):
    """An external tool failed: the line users read, and, when a command ran, what ran, how it ended and the
    last lines it printed, so a caller can decide by the exit code instead of searching the wording."""

    exit_code = ExitCode.TOOL_FAILED

    def __init__(
        self, message: str, command: tuple[str, ...] = (), returncode: int | None = None, tail: str = "",
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.command, self.returncode, self.tail = command, returncode, tail
