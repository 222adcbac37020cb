"""One grammar for conda specs: what a profile may hold is exactly what the solver is given.

rattler parses a spec *string* strictly inside its solver, which refuses forms conda accepts
(`pandas==2.*`, `jaxlib>=0.4.31=cuda12*`, and the pytorch channel's own build strings with dots,
`py3.10_cuda11.8*`); its lenient mode reads them as conda does. So every spec is parsed here, in
lenient mode, both when a profile is validated and when the solver is called (it is handed the
parsed MatchSpec, never the string). rattler is imported on use, so commands that never look at
specs do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rattler import MatchSpec


class SpecError(ValueError):
    """A spec that neither conda nor the solver can read; the message is rattler's first line."""


def parse_spec(value: str) -> MatchSpec:
    """The MatchSpec conda means by `value` (rattler's lenient mode), or SpecError."""
    from rattler import MatchSpec

    try:
        return MatchSpec(value, strict=False)
    except Exception as exc:  # rattler's parse errors are not public types
        raise SpecError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
