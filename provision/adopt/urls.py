"""URLs from foreign files: what may be copied into a profile that a team commits."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import LocatedError

CREDENTIALS_FIX = ("remove the user and password from the URL; put them in ~/.netrc, a keyring, or "
                   "UV_INDEX_<NAME>_USERNAME / _PASSWORD variables")  # fmt: skip


def checked_channel(channel: str, where: str) -> str:
    """A channel as a profile may hold it: a name, or a URL that passes checked_url."""
    from ..grammar import CHANNEL

    if "://" in channel or ":" in channel:
        return checked_url(channel, where, "a channel URL")
    if not CHANNEL.fullmatch(channel):
        raise LocatedError(where, f"{channel[:80]!r} is not a channel name or URL", "fix the file")
    return channel


def checked_link(value: str, where: str) -> str:
    """A --find-links location: a URL that passes checked_url, or a folder path of plain text."""
    from ..grammar import control_character

    if ":" in value.split("/", 1)[0]:
        return checked_url(value, where, "a find-links location")
    if control_character(value):
        raise LocatedError(where, "a find-links folder containing a control character", "fix the file")
    return value


def checked_url(url: str, where: str, what: str) -> str:
    """`url` if a profile may hold it: never credentials (the profile is committed), never a control
    character; plain http is kept (the lock's hashes still check every file) but is the caller's note."""
    from ..grammar import URL, control_character

    if control_character(url):
        raise LocatedError(where, f"{what} containing a control character", "fix the file")
    parts = urlsplit(url)
    if parts.username or parts.password:
        # Nothing of the userinfo is said: a lone token, or user%3Apassword, is the secret itself.
        raise LocatedError(where, f"{what} carries credentials ({parts.scheme}://…@{parts.hostname})",
                           CREDENTIALS_FIX)  # fmt: skip
    if not URL.fullmatch(url):
        raise LocatedError(where, f"{url!r} is not {what} (an https:// or file:// URL)", "fix the file")
    return url
