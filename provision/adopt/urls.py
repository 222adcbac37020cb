"""URLs from foreign files: what may be copied into a profile that a team commits."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import LocatedError

CREDENTIALS_FIX = ("remove the user and password from the URL; put them in ~/.netrc, a keyring, or "
                   "UV_INDEX_<NAME>_USERNAME / _PASSWORD variables")  # fmt: skip


def checked_url(url: str, where: str, what: str) -> str:
    """`url` if a profile may hold it: never credentials (the profile is committed), never a control
    character; plain http is kept (the lock's hashes still check every file) but is the caller's note."""
    from ..grammar import URL, control_character

    if control_character(url):
        raise LocatedError(where, f"{what} containing a control character", "fix the file")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise LocatedError(where, f"{what} carries credentials ({parts.scheme}://{parts.username}:…@{parts.hostname})",
                           CREDENTIALS_FIX)  # fmt: skip
    if not URL.fullmatch(url):
        raise LocatedError(where, f"{url!r} is not {what} (an https:// or file:// URL)", "fix the file")
    return url
