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


# What rattler's and urllib's messages say when the network, not the request, failed.
NETWORK_WORDS = (
    "error sending request", "dns error", "failed to lookup address", "connection refused", "timed out",
    "network is unreachable", "name or service not known", "client error (connect)",
)  # fmt: skip


def network_problem(message: str, channels: list[str]) -> str | None:
    """One line for a failure to reach a channel (never "relax the pins"), naming the host and the
    mirror setting that avoids the network; None when `message` is not about the network."""
    import re

    lowered = message.lower()
    if not any(word in lowered for word in NETWORK_WORDS):
        return None
    host = re.search(r"https?://([^/\s)]+)", message)
    where = host.group(1) if host else "the channel's host"
    example = channels[0] if channels else "conda-forge"
    return (f"cannot reach {where} (network: {'DNS' if 'dns' in lowered else 'connection'} failure); check the "
            f"network, or solve through a mirror: --mirror {example}=FOLDER_OR_URL, PROVISION_MIRRORS, or "
            "`provision config`")  # fmt: skip
