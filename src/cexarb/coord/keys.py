"""Key names of one fleet in Redis, and the Redis URL handling shared by members and tools.

Every key carries the fleet name as a hash tag (`{fleet}`), so one fleet's keys live
on one Redis Cluster slot and its multi-key scripts stay legal there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cexarb.model.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_name(kind: str, name: str) -> str:
    """Fleet and member names go into keys: letters, digits, '_', '.', '-' only."""
    if not _NAME.match(name):
        raise ConfigError(f"{kind} name {name!r} must be 1-64 of letters, digits, '_', '.', '-'")
    return name


def redact_url(url: str) -> str:
    """The URL with its password replaced (URLs are shown in logs and on the console)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def check_url(url: str) -> str:
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"coordinator URL {redact_url(url)!r} must start with redis://, rediss:// (TLS) or unix://"
        )
    return url


@dataclass(frozen=True, slots=True)
class FleetKeys:
    fleet: str

    @property
    def prefix(self) -> str:
        return f"cexarb:{{{self.fleet}}}:"

    @property
    def epoch(self) -> str:
        return self.prefix + "epoch"

    @property
    def members(self) -> str:
        return self.prefix + "members"

    def heartbeat(self, member: str) -> str:
        return f"{self.prefix}hb:{member}"

    def reservations(self, member: str) -> str:
        return f"{self.prefix}res:{member}"

    def settled(self, member: str) -> str:
        """The member's recent settlement ids (a settlement sent twice is applied once)."""
        return f"{self.prefix}settled:{member}"

    def reseeded(self, epoch: str) -> str:
        return f"{self.prefix}reseeded:{epoch}"

    @property
    def halt(self) -> str:
        return self.prefix + "halt"

    @property
    def control(self) -> str:
        """Pub/sub channel of the kill switch."""
        return self.prefix + "control"

    @property
    def risk(self) -> str:
        return self.prefix + "risk"

    @property
    def unhedged(self) -> str:
        return self.prefix + "unhedged"

    @property
    def budgets(self) -> str:
        """Hash scope -> capacity, so `cexarb fleet` can show each pool's use."""
        return self.prefix + "budgets"

    def bucket(self, scope: str) -> str:
        return f"{self.prefix}bucket:{scope}"

    def pause(self, scope: str) -> str:
        """Exists (with a TTL) while a venue's 429 pauses the pool for every member."""
        return f"{self.prefix}pause:{scope}"

    @property
    def grace(self) -> str:
        """Exists (with a TTL) while no lease is granted after the server lost its state."""
        return self.prefix + "grace"

    @property
    def lease_seq(self) -> str:
        return self.prefix + "lease_seq"

    @property
    def events(self) -> str:
        return self.prefix + "events"
