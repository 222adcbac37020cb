"""Channel mirrors: solve and install through a local folder or an internal URL while the
lock keeps the canonical package URLs (air-gapped teams; our offline tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import ProvisionError

CANONICAL_BASE = "https://conda.anaconda.org"


def canonical_channel_url(channel: str) -> str:
    """'conda-forge' -> 'https://conda.anaconda.org/conda-forge'; URLs are kept as they are."""
    if "://" in channel:
        return channel.rstrip("/")
    return f"{CANONICAL_BASE}/{channel}"


@dataclass(frozen=True)
class Mirrors:
    """channel name (as written in profiles) -> mirror URL."""

    by_channel: dict[str, str]
    as_written: dict[str, str] = field(default_factory=dict)  # for the lock: no machine-specific paths

    def source_for(self, channel: str) -> str:
        return self.by_channel.get(channel, canonical_channel_url(channel))

    def canonical_url(self, url: str, channel: str) -> str:
        """A package URL from the mirror, rewritten to the canonical channel's URL."""
        mirror = self.source_for(channel).rstrip("/")
        if url.startswith(mirror + "/"):
            return canonical_channel_url(channel) + url[len(mirror) :]
        return url

    def mirror_url(self, url: str, channel: str) -> str:
        """The inverse of canonical_url: where a locked package is fetched from through a mirror."""
        canonical = canonical_channel_url(channel)
        if channel in self.by_channel and url.startswith(canonical + "/"):
            return self.by_channel[channel] + url[len(canonical) :]
        return url

    def require(self, channels: list[str]) -> None:
        """Fail clearly if a mirror folder for one of `channels` is missing."""
        for channel in channels:
            url = self.by_channel.get(channel, "")
            if url.startswith("file://") and not Path(unquote(urlparse(url).path)).is_dir():
                written = self.as_written.get(channel, url)
                raise ProvisionError(
                    f"mirror {channel}={written}: {unquote(urlparse(url).path)} is not a folder; "
                    "give an existing folder or a URL (--mirror, PROVISION_MIRRORS or `provision config`)."
                )


def parse_mirrors(values: list[str] | tuple[str, ...], base: Path, origin: str = "--mirror") -> Mirrors:
    """`CHANNEL=URL` items; a URL without a scheme is a folder, relative to `base`."""
    out: dict[str, str] = {}
    written: dict[str, str] = {}
    for item in values:
        channel, sep, target = item.partition("=")
        written[channel.strip()] = target
        if not sep or not channel or not target:
            raise ProvisionError(
                f"{origin} {item!r}: write it as CHANNEL=URL, e.g. conda-forge=file:///srv/conda-forge"
            )
        if "://" not in target:
            # Checked when a channel is used (require), so a mirror for conda channels does not
            # stand in the way of a venv profile on a machine that lacks the mirror folder.
            target = (base / target).resolve().as_uri()
        out[channel.strip()] = target.rstrip("/")
    return Mirrors(out, written)
