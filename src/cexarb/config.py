"""Configuration per venue and market: URLs, credentials, timeouts, rate-limit pools.

Loaded from `cexarb.toml` and `CEXARB_*` environment variables; the same code
points at the simulator or the real venue by changing only the URLs here.

What a venue is (its defaults, credential variables, command-line names) is not written here:
each venue package declares it in `cexarb/venues/<venue>/spec.py` (see `venue_specs`), and the
keys a `[venue.market]` table accepts are VenueConfig's own typed fields.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import json
import os
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any, Protocol, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import msgspec

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

    def pause(self, seconds: float) -> None:
        """The venue said to back off (a 429's Retry-After): nobody sharing the pool spends
        from it for `seconds`, since the venue counts them all as one."""
        ...


# The kinds of value a config file may set. Each carries its check and the words an error uses,
# so the file's keys and their validation follow from the typed fields below.
Url = Annotated[str, msgspec.Meta(pattern=r"^(https?|wss?)://", description="an http(s):// or ws(s):// URL")]
Seconds = Annotated[float, msgspec.Meta(gt=0, description="a positive number")]
Count = Annotated[int, msgspec.Meta(ge=0, description="a non-negative integer")]
PositiveCount = Annotated[int, msgspec.Meta(gt=0, description="a positive integer")]


@dataclass(frozen=True, slots=True)
class RateLimitPool:
    """At most `capacity` weight units per `period_s` seconds (fleet-wide when `shared` is set)."""

    capacity: PositiveCount
    period_s: Seconds
    shared: SharedBudget | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VenueConfig:
    venue: Venue
    market: Market
    rest_url: Url
    ws_url: Url
    # Private stream URL when the venue separates it (MEXC: same host, listen-key query).
    private_ws_url: Url = ""
    api_key: Secret = field(default_factory=lambda: Secret(""))
    api_secret: Secret = field(default_factory=lambda: Secret(""))
    request_timeout_s: Seconds = 10.0
    ping_interval_s: Seconds = 15.0
    # A stream silent this long is considered dead and reconnected.
    silence_timeout_s: Seconds = 30.0
    # A stream that cannot reconnect retries with doubling, jittered delays of at most this.
    reconnect_max_s: Seconds = 5.0
    recv_window_ms: Count = 5000
    rate_limits: dict[str, RateLimitPool] = field(default_factory=dict)
    # Gate futures user id, needed in private futures subscriptions (learned from REST if 0).
    user_id: Count = 0

    @property
    def has_credentials(self) -> CallableFlag:
        """Whether an API key and secret are configured: read as `cfg.has_credentials`, or called
        as the seed interface does (`cfg.has_credentials()`)."""
        return CallableFlag(bool(self.api_key) and bool(self.api_secret))


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One (venue, market) as the system knows it before connecting: its defaults, where its
    credentials come from and the names an operator types or reads.

    Each venue package declares its own (`SPECS` in cexarb/venues/<venue>/spec.py); config,
    the command line and the dashboard read them from `venue_specs()`, and
    cexarb/exchange/registry.py attaches the composite classes to the same (venue, market).
    """

    # URLs, rate-limit pools and timeouts: what `default_config()` holds for this market.
    defaults: VenueConfig
    # (API key, API secret) environment variables; they set every market of the venue.
    credentials_env: tuple[str, str]
    # Short name for narrow columns, distinct across markets ("GATE-S" vs "GATE-F").
    label: str
    # Other names `--venue` accepts besides `key`.
    aliases: tuple[str, ...] = ()
    # The venue lists open orders only per symbol (MEXC's GET /api/v3/openOrders needs `symbol`).
    open_orders_need_symbol: bool = False

    @property
    def venue(self) -> Venue:
        return self.defaults.venue

    @property
    def market(self) -> Market:
        return self.defaults.market

    @property
    def key(self) -> str:
        """The venue's name on the command line, in logs and in the journal: "gateio_futures"."""
        return f"{self.venue.value}_{self.market.value}"

    def no_credentials(self) -> ConfigError:
        """The error for trading this market without credentials: where to set them."""
        key_var, secret_var = self.credentials_env
        return ConfigError(
            f"{self.venue.value}.{self.market.value} has no credentials: set api_key/api_secret in the "
            f"config or {key_var} / {secret_var}"
        )


_VENUE_PACKAGES = Path(__file__).with_name("venues")


@functools.cache
def venue_specs() -> tuple[VenueSpec, ...]:
    """Every (venue, market) the system knows, in Venue then Market order: the `SPECS` of each
    venue package that has a `spec` module. Those modules hold data only (their package loads
    its connectors on first use), so reading them here stays light."""
    specs: list[VenueSpec] = []
    for path in sorted(_VENUE_PACKAGES.glob("*/spec.py")):
        specs += importlib.import_module(f"cexarb.venues.{path.parent.name}.spec").SPECS
    keys = [(s.venue, s.market) for s in specs]
    twice = sorted({f"{v.value}.{m.value}" for v, m in keys if keys.count((v, m)) > 1})
    if twice:
        raise ConfigError(f"venue specs declared more than once: {', '.join(twice)}")
    venues, markets = list(Venue), list(Market)
    return tuple(sorted(specs, key=lambda s: (venues.index(s.venue), markets.index(s.market))))


def venue_spec(venue: Venue | str, market: Market | str) -> VenueSpec:
    """The spec of `venue`/`market`; a ConfigError naming the known ones otherwise."""
    for spec in venue_specs():
        if spec.venue == venue and spec.market == market:
            return spec
    known = ", ".join(f"{s.venue.value}/{s.market.value}" for s in venue_specs())
    raise ConfigError(f"unknown venue/market {venue!r}/{market!r} (known: {known})")


def _defaults() -> dict[tuple[Venue, Market], VenueConfig]:
    # A fresh pool table per Config: the specs' own never change.
    return {
        (s.venue, s.market): replace(s.defaults, rate_limits=dict(s.defaults.rate_limits))
        for s in venue_specs()
    }


# The table a section sits in names its venue and market; the rest of VenueConfig's fields are
# what the section may set.
_IDENTITY = ("venue", "market")
_HINTS = get_type_hints(VenueConfig, include_extras=True)
_FILE_KEYS = {f.name: _HINTS[f.name] for f in fields(VenueConfig) if f.name not in _IDENTITY}
URL_KEYS = tuple(key for key, hint in _FILE_KEYS.items() if hint == Url)
_POOL_HINTS = get_type_hints(RateLimitPool, include_extras=True)
# A pool's settings: the fields without a default (`shared` is set by code, not a file).
_POOL_KEYS = {f.name: _POOL_HINTS[f.name] for f in fields(RateLimitPool) if f.default is MISSING}


def _description(hint: Any) -> str:
    if get_origin(hint) is Annotated:
        for meta in get_args(hint)[1:]:
            if isinstance(meta, msgspec.Meta) and meta.description:
                return meta.description
    return getattr(hint, "__name__", str(hint))


def _convert(value: Any, hint: Any) -> Any:
    """`value` as `hint` (strict: a TOML `true` is no number, "30" no float), or ValueError."""
    try:
        return msgspec.convert(value, hint, strict=True)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Config:
    venues: dict[tuple[Venue, Market], VenueConfig]

    def get(self, venue: Venue | str, market: Market | str) -> VenueConfig:
        key = (Venue(venue), Market(market))
        try:
            return self.venues[key]
        except KeyError:
            known = ", ".join(f"{v.value} {m.value}" for v, m in self.venues)
            raise ConfigError(
                f"no configuration for {key[0].value} {key[1].value} (known: {known})"
            ) from None

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
    """Every known venue and market at its defaults (the real venues' URLs, no credentials)."""
    return Config(_defaults())


def _apply_section(cfg: VenueConfig, section: dict[str, Any], where: str) -> VenueConfig:
    changes: dict[str, Any] = {}
    for key, value in section.items():
        name = f"{where}.{key}"
        hint = _FILE_KEYS.get(key)
        if hint is None:
            raise ConfigError(f"unknown key {name}; valid keys: {', '.join(sorted(_FILE_KEYS))}")
        if hint is Secret:
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a string")
            changes[key] = Secret(value)
        elif get_origin(hint) is dict:  # the rate-limit pools, by name
            changes[key] = _pools(getattr(cfg, key), value, name)
        else:
            try:
                changes[key] = _convert(value, hint)
            except ValueError:
                raise ConfigError(f"{name} must be {_description(hint)}, got {value!r}") from None
    return _one_kind_of_host(replace(cfg, **changes), section.keys(), where)


def _pools(pools: dict[str, RateLimitPool], table: Any, name: str) -> dict[str, RateLimitPool]:
    """`pools` with the file's pools added or replaced; each needs every RateLimitPool setting."""
    if not isinstance(table, dict):
        raise ConfigError(f"{name} must be a table of pools")
    pools = dict(pools)
    for pool, spec in table.items():
        try:
            if not isinstance(spec, dict):
                raise ValueError(spec)
            pools[pool] = RateLimitPool(**{key: _convert(spec.get(key), h) for key, h in _POOL_KEYS.items()})
        except ValueError:
            needs = " and ".join(f"{key!r} ({_description(h)})" for key, h in _POOL_KEYS.items())
            raise ConfigError(f"{name}.{pool} needs {needs}") from None
    return pools


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
    """Defaults, then `cexarb.toml` (a [venue.market] table per market, e.g. [gateio.futures]), then
    the credential variables of each venue's spec."""
    env = os.environ if env is None else env
    venues = _defaults()
    if path is not None:
        data = read_toml(path)
        for venue_name, markets in data.items():
            if venue_name == "arb":  # engine settings share the file; cexarb.arb.config reads them
                continue
            has = [m.value for v, m in venues if v.value == venue_name]
            if not has:
                known = ", ".join(dict.fromkeys(v.value for v, _ in venues))
                raise ConfigError(f"unknown venue [{venue_name}] (known: {known})")
            if not isinstance(markets, dict):
                raise ConfigError(f"[{venue_name}] must contain market tables like [{venue_name}.{has[0]}]")
            for market_name, section in markets.items():
                if market_name not in has:
                    raise ConfigError(
                        f"unknown market [{venue_name}.{market_name}] ({venue_name} has: {', '.join(has)})"
                    )
                key = (Venue(venue_name), Market(market_name))
                if not isinstance(section, dict):
                    raise ConfigError(f"[{venue_name}.{market_name}] must be a table of settings")
                venues[key] = _apply_section(venues[key], section, f"{venue_name}.{market_name}")
    for spec in venue_specs():
        key_var, secret_var = spec.credentials_env
        if env.get(key_var) or env.get(secret_var):
            if not (env.get(key_var) and env.get(secret_var)):
                raise ConfigError(f"set both {key_var} and {secret_var}, or neither")
            cfg = venues[(spec.venue, spec.market)]
            venues[(spec.venue, spec.market)] = replace(
                cfg, api_key=Secret(env[key_var]), api_secret=Secret(env[secret_var])
            )
    return Config(venues)


def venue_toml(config: Config) -> str:
    """`config`'s venues as the TOML tables `load_config` reads back: URLs, credentials (revealed:
    the file is for the machine that owns them) and the Gate user id."""
    lines = []
    for (venue, market), cfg in config.venues.items():
        lines.append(f"[{venue.value}.{market.value}]")
        for key in URL_KEYS:
            if getattr(cfg, key):
                lines.append(f"{key} = {json.dumps(getattr(cfg, key))}")
        if cfg.has_credentials:
            lines.append(f"api_key = {json.dumps(cfg.api_key.reveal())}")
            lines.append(f"api_secret = {json.dumps(cfg.api_secret.reveal())}")
        if cfg.user_id:
            lines.append(f"user_id = {cfg.user_id}")
        lines.append("")
    return "\n".join(lines)
