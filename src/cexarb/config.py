"""Configuration per venue and market: URLs, credentials, timeouts, rate-limit pools.

Loaded from `cexarb.toml` and `CEXARB_*` environment variables; the same code
points at the simulator or the real venue by changing only the URLs here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from cexarb.model.enums import Market, Venue
from cexarb.model.errors import ConfigError


class Secret:
    """Holds a credential; never shows it in repr, str or format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class CallableFlag:
    """A boolean that may also be called (returning itself as a bool)."""

    __slots__ = ("_value",)

    def __init__(self, value: bool) -> None:
        self._value = value

    def __bool__(self) -> bool:
        return self._value

    def __call__(self) -> bool:
        return self._value

    def __eq__(self, other: object) -> bool:
        return bool(self) == other if isinstance(other, bool | CallableFlag) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return repr(self._value)


class SharedBudget(Protocol):
    """A pool's budget shared with other processes (a fleet, see cexarb.coord).

    The local limiter still keeps its own window; this is asked on top of it, so the
    transport never needs to know how (or whether) the sharing is done.
    """

    def try_take(self, weight: int) -> bool:
        """Take `weight` from what this process already holds; False when it holds too little."""
        ...

    async def take(self, weight: int) -> None:
        """Wait until the shared budget grants `weight`. Never fails."""
        ...


@dataclass(frozen=True, slots=True)
class RateLimitPool:
    """At most `capacity` weight units per `period_s` seconds (fleet-wide when `shared` is set)."""

    capacity: int
    period_s: float
    shared: SharedBudget | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    venue: Venue
    market: Market
    rest_url: str
    ws_url: str
    # Private stream URL when the venue separates it (MEXC: same host, listen-key query).
    private_ws_url: str = ""
    api_key: Secret = field(default_factory=lambda: Secret(""))
    api_secret: Secret = field(default_factory=lambda: Secret(""))
    request_timeout_s: float = 10.0
    ping_interval_s: float = 15.0
    # A stream silent this long is considered dead and reconnected.
    silence_timeout_s: float = 30.0
    recv_window_ms: int = 5000
    rate_limits: dict[str, RateLimitPool] = field(default_factory=dict)
    # Gate futures user id, needed in private futures subscriptions (learned from REST if 0).
    user_id: int = 0

    @property
    def has_credentials(self) -> CallableFlag:
        """Whether an API key and secret are configured: read as `cfg.has_credentials`, or called
        as the seed interface does (`cfg.has_credentials()`)."""
        return CallableFlag(bool(self.api_key) and bool(self.api_secret))


def _defaults() -> dict[tuple[Venue, Market], VenueConfig]:
    return {
        (Venue.MEXC, Market.SPOT): VenueConfig(
            venue=Venue.MEXC,
            market=Market.SPOT,
            rest_url="https://api.mexc.com",
            ws_url="wss://wbs-api.mexc.com/ws",
            private_ws_url="wss://wbs-api.mexc.com/ws",
            recv_window_ms=5000,
            # MEXC spot: weight budget per IP / per UID, documented per 10 s.
            rate_limits={"default": RateLimitPool(500, 10.0), "orders": RateLimitPool(500, 10.0)},
        ),
        (Venue.GATEIO, Market.SPOT): VenueConfig(
            venue=Venue.GATEIO,
            market=Market.SPOT,
            rest_url="https://api.gateio.ws/api/v4",
            ws_url="wss://api.gateio.ws/ws/v4/",
            rate_limits={
                "public": RateLimitPool(200, 10.0),
                "default": RateLimitPool(200, 10.0),
                "orders": RateLimitPool(10, 1.0),
                "cancel": RateLimitPool(200, 1.0),
                # POST /withdrawals: one per 3 s per UID.
                "withdraw": RateLimitPool(1, 3.0),
            },
        ),
        (Venue.GATEIO, Market.FUTURES): VenueConfig(
            venue=Venue.GATEIO,
            market=Market.FUTURES,
            rest_url="https://api.gateio.ws/api/v4",
            ws_url="wss://fx-ws.gateio.ws/v4/ws/usdt",
            rate_limits={
                "public": RateLimitPool(200, 10.0),
                "default": RateLimitPool(200, 10.0),
                "orders": RateLimitPool(100, 1.0),
                "cancel": RateLimitPool(200, 1.0),
            },
        ),
    }


_ENV_CREDENTIALS = {
    Venue.MEXC: ("CEXARB_MEXC_API_KEY", "CEXARB_MEXC_API_SECRET"),
    Venue.GATEIO: ("CEXARB_GATEIO_API_KEY", "CEXARB_GATEIO_API_SECRET"),
}

URL_KEYS = ("rest_url", "ws_url", "private_ws_url")
_STR_KEYS = set(URL_KEYS)
_FLOAT_KEYS = {"request_timeout_s", "ping_interval_s", "silence_timeout_s"}
_INT_KEYS = {"recv_window_ms", "user_id"}


# TOML `true` is a Python bool, and bool is an int: never accept it as a number.
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


@dataclass(frozen=True, slots=True)
class Config:
    venues: dict[tuple[Venue, Market], VenueConfig]

    def get(self, venue: Venue | str, market: Market | str) -> VenueConfig:
        key = (Venue(venue), Market(market))
        try:
            return self.venues[key]
        except KeyError:
            raise ConfigError(f"no configuration for {key[0].value} {key[1].value}") from None

    def check_one_target(self, keys: list[tuple[Venue, Market]]) -> None:
        """Refuse to use, together, venues on this machine (a simulator) and real ones."""
        local = [k for k in keys if is_local_url(self.get(*k).rest_url)]
        real = [k for k in keys if k not in local]
        if local and real:

            def names(ks: list[tuple[Venue, Market]]) -> str:
                return ", ".join(f"{v.value}.{m.value}" for v, m in ks)

            raise ConfigError(
                f"{names(local)} point at this machine (a simulator) but {names(real)} at the real venue; "
                f"configure every venue for the same target (`cexarb sim --write-config FILE` writes them all)"
            )

    def with_venue(self, cfg: VenueConfig) -> Config:
        venues = dict(self.venues)
        venues[(cfg.venue, cfg.market)] = cfg
        return Config(venues)


def default_config() -> Config:
    return Config(_defaults())


def _apply_section(cfg: VenueConfig, section: dict[str, Any], where: str) -> VenueConfig:
    changes: dict[str, Any] = {}
    for key, value in section.items():
        name = f"{where}.{key}"
        if key in _STR_KEYS:
            if not isinstance(value, str) or not value.startswith(("http://", "https://", "ws://", "wss://")):
                raise ConfigError(f"{name} must be an http(s):// or ws(s):// URL, got {value!r}")
            changes[key] = value
        elif key in _FLOAT_KEYS:
            if not _is_number(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
            changes[key] = float(value)
        elif key in _INT_KEYS:
            if not _is_int(value) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
            changes[key] = value
        elif key in ("api_key", "api_secret"):
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a string")
            changes[key] = Secret(value)
        elif key == "rate_limits":
            if not isinstance(value, dict):
                raise ConfigError(f"{name} must be a table of pools")
            pools = dict(cfg.rate_limits)
            for pool, spec in value.items():
                if (
                    not isinstance(spec, dict)
                    or not _is_int(spec.get("capacity"))
                    or not _is_number(spec.get("period_s"))
                    or spec["capacity"] <= 0
                    or spec["period_s"] <= 0
                ):
                    raise ConfigError(f"{name}.{pool} needs positive 'capacity' (int) and 'period_s'")
                pools[pool] = RateLimitPool(spec["capacity"], float(spec["period_s"]))
            changes[key] = pools
        else:
            raise ConfigError(f"unknown key {name}; valid keys: {', '.join(sorted(_VALID_KEYS))}")
    return _one_kind_of_host(replace(cfg, **changes), section.keys(), where)


_VALID_KEYS = _STR_KEYS | _FLOAT_KEYS | _INT_KEYS | {"api_key", "api_secret", "rate_limits"}


def is_local_url(url: str) -> bool:
    """True when `url` names this machine or a private network (a simulator, not a venue)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _one_kind_of_host(cfg: VenueConfig, given: Any, where: str) -> VenueConfig:
    """A venue's URLs all local or all real: never a stream to the real venue when the file
    points the rest at a simulator. A private stream URL left unset follows the public one;
    any other mix is refused."""
    if "private_ws_url" not in given and "ws_url" in given and cfg.private_ws_url:
        cfg = replace(cfg, private_ws_url=cfg.ws_url)
    urls = {key: getattr(cfg, key) for key in URL_KEYS if getattr(cfg, key)}
    local = sorted(key for key, url in urls.items() if is_local_url(url))
    real = sorted(key for key, url in urls.items() if not is_local_url(url))
    if local and real:
        where_real = ", ".join(
            f"{key} = {urls[key]}" + ("" if key in given else " (the default)") for key in real
        )
        # An unset private stream URL follows ws_url: setting ws_url is enough.
        to_set = [k for k in real if k != "private_ws_url" or k in given] or real
        raise ConfigError(
            f"[{where}] mixes local and real hosts: {', '.join(local)} on this machine but {where_real}; "
            f"set {' and '.join(to_set)} too (`cexarb sim --write-config FILE` writes a complete file), or "
            f"point everything at the venue"
        )
    return cfg


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed config file; a missing or malformed file is a ConfigError naming it."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Defaults, then `cexarb.toml` ([mexc.spot], [gateio.spot], [gateio.futures]), then env credentials."""
    env = os.environ if env is None else env
    venues = _defaults()
    if path is not None:
        data = read_toml(path)
        for venue_name, markets in data.items():
            if venue_name == "arb":  # engine settings share the file; cexarb.arb.config reads them
                continue
            try:
                venue = Venue(venue_name)
            except ValueError:
                raise ConfigError(f"unknown venue [{venue_name}] (known: mexc, gateio)") from None
            if not isinstance(markets, dict):
                raise ConfigError(f"[{venue_name}] must contain market tables like [{venue_name}.spot]")
            for market_name, section in markets.items():
                try:
                    market = Market(market_name)
                except ValueError:
                    raise ConfigError(
                        f"unknown market [{venue_name}.{market_name}] (known: spot, futures)"
                    ) from None
                key = (venue, market)
                if key not in venues:
                    raise ConfigError(f"[{venue_name}.{market_name}] is not supported")
                if not isinstance(section, dict):
                    raise ConfigError(f"[{venue_name}.{market_name}] must be a table of settings")
                venues[key] = _apply_section(venues[key], section, f"{venue_name}.{market_name}")
    for venue, (key_var, secret_var) in _ENV_CREDENTIALS.items():
        if env.get(key_var) or env.get(secret_var):
            if not (env.get(key_var) and env.get(secret_var)):
                raise ConfigError(f"set both {key_var} and {secret_var}, or neither")
            for k, cfg in list(venues.items()):
                if k[0] is venue:
                    venues[k] = replace(cfg, api_key=Secret(env[key_var]), api_secret=Secret(env[secret_var]))
    return Config(venues)


def venue_toml(config: Config) -> str:
    """`config`'s venues as the TOML tables `load_config` reads back: URLs, credentials (revealed:
    the file is for the machine that owns them) and the Gate user id."""
    lines = []
    for (venue, market), cfg in config.venues.items():
        lines.append(f"[{venue.value}.{market.value}]")
        for key in ("rest_url", "ws_url", "private_ws_url"):
            if getattr(cfg, key):
                lines.append(f"{key} = {json.dumps(getattr(cfg, key))}")
        if cfg.has_credentials:
            lines.append(f"api_key = {json.dumps(cfg.api_key.reveal())}")
            lines.append(f"api_secret = {json.dumps(cfg.api_secret.reveal())}")
        if cfg.user_id:
            lines.append(f"user_id = {cfg.user_id}")
        lines.append("")
    return "\n".join(lines)
