"""One venue in one place: every name, default and credential variable of a (venue, market) comes
from its spec (cexarb/venues/<venue>/spec.py), and its composite classes from its one entry in
cexarb/exchange/registry.py. Nothing else in src/ spells a venue out (docs/adding-a-venue.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import cexarb
from cexarb.cli.dashboard import ALIASES as LABELS
from cexarb.cli.ops import parse_venue
from cexarb.cli.runner import VENUE_MARKETS
from cexarb.config import URL_KEYS, VenueSpec, default_config, load_config, venue_spec, venue_specs
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.exchange.public import CompositePublicExchange
from cexarb.exchange.registry import COMPOSITES, ENTRIES, create_exchange
from cexarb.model.errors import ConfigError

SRC = Path(cexarb.__file__).parent
SPECS = venue_specs()
IDS = [s.key for s in SPECS]


def test_the_specs_are_the_three_markets_in_venue_order():
    assert IDS == ["mexc_spot", "gateio_spot", "gateio_futures"]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_name_of_a_market_resolves_from_its_spec(spec: VenueSpec):
    for name in (spec.key, *spec.aliases):
        assert parse_venue(name) == (spec.venue, spec.market)
        assert parse_venue(name.upper().replace("_", "-")) == (spec.venue, spec.market)
    assert LABELS[spec.key] == spec.label
    assert VENUE_MARKETS[spec.key] == (spec.venue, spec.market)
    assert venue_spec(spec.venue.value, spec.market.value) is spec


def test_names_and_labels_are_unique_across_markets():
    names = [n for s in SPECS for n in (s.key, *s.aliases)]
    assert len(names) == len(set(names))
    labels = [s.label for s in SPECS]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_defaults_are_the_specs_and_each_config_gets_its_own_pools(spec: VenueSpec):
    cfg = default_config().get(spec.venue, spec.market)
    assert cfg == spec.defaults
    cfg.rate_limits.clear()
    assert spec.defaults.rate_limits and default_config().get(spec.venue, spec.market).rate_limits


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_config_file_section_of_a_market_is_named_by_its_spec(tmp_path, spec: VenueSpec):
    path = tmp_path / "cexarb.toml"
    urls = {key: f"ws://127.0.0.1:1/{key}" if "ws" in key else "http://127.0.0.1:1" for key in URL_KEYS}
    body = "\n".join(f'{key} = "{url}"' for key, url in urls.items())
    path.write_text(f"[{spec.venue.value}.{spec.market.value}]\n{body}\nrecv_window_ms = 7\n")
    config = load_config(path, env={})
    cfg = config.get(spec.venue, spec.market)
    assert {key: getattr(cfg, key) for key in URL_KEYS} == urls and cfg.recv_window_ms == 7
    others = [s for s in SPECS if s is not spec]
    assert all(config.get(s.venue, s.market) == s.defaults for s in others)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_credential_variables_of_a_spec_set_its_market(spec: VenueSpec):
    key_var, secret_var = spec.credentials_env
    cfg = load_config(env={key_var: "the-key", secret_var: "the-secret"}).get(spec.venue, spec.market)
    assert (cfg.api_key.reveal(), cfg.api_secret.reveal()) == ("the-key", "the-secret")
    with pytest.raises(ConfigError, match=f"{key_var} and {secret_var}"):
        load_config(env={key_var: "the-key"})
    assert key_var in str(spec.no_credentials()) and secret_var in str(spec.no_credentials())


def test_every_spec_has_one_composite_entry_and_every_entry_a_spec():
    assert [spec for spec, _, _ in ENTRIES] == list(SPECS)
    assert list(COMPOSITES) == [(s.venue, s.market) for s in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_create_exchange_builds_the_entry_s_classes_on_the_spec_s_config(spec: VenueSpec):
    public_cls, private_cls = COMPOSITES[(spec.venue, spec.market)]
    assert issubclass(public_cls, CompositePublicExchange)
    assert issubclass(private_cls, CompositePrivateExchange) and issubclass(private_cls, public_cls)
    config = default_config()
    public = create_exchange(spec.venue.value, spec.market.value, config, private=False)
    private = create_exchange(spec.venue, spec.market, config)
    assert type(public) is public_cls and type(private) is private_cls
    assert public.config == spec.defaults and public.name == spec.key


def test_unknown_venue_or_market_errors_name_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match="supported: mexc/spot, gateio/spot, gateio/futures"):
        create_exchange("binance", "spot", default_config())
    with pytest.raises(ConfigError, match="no composite for mexc/futures"):
        create_exchange("mexc", "futures", default_config())
    with pytest.raises(ConfigError, match=r"\[mexc.futures\] \(mexc has: spot\)"):
        path = tmp_path / "cexarb.toml"
        path.write_text("[mexc.futures]\nuser_id = 1\n")
        load_config(path, env={})
    with pytest.raises(ConfigError, match=r"\(known: mexc, gateio\)"):
        path.write_text("[binance.spot]\nuser_id = 1\n")
        load_config(path, env={})


def test_reading_the_specs_loads_no_connector():
    """config reads every spec in every process (the simulator's too): a venue package must not
    load its REST/WS code for that."""
    code = (
        "import sys; from cexarb.config import load_config; load_config(env={}); "
        "print(sorted(m for m in sys.modules if m.startswith('cexarb.venues.') and not m.endswith('.spec')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(
        sorted(f"cexarb.venues.{s.venue.value}" for s in {s.venue: s for s in SPECS}.values())
    )


# Where a venue may be spelled out: its own package, the simulator (which imitates particular
# venues), the Venue enum, the composite modules and their registry.
ALLOWED_DIRS = ("venues/", "sim/")
ALLOWED_FILES = {"model/enums.py", "exchange/registry.py"} | {
    f"{cls.__module__.removeprefix('cexarb.').replace('.', '/')}.py"
    for pair in COMPOSITES.values()
    for cls in pair
}
# (file, word): a word that happens to equal a venue name, or a use that is about those venues.
ALLOWED_WORDS = {
    ("transport/ratelimit.py", "gate"),  # a pool's lock, named gate
    ("arb/strategies.py", "mexc_spot"),  # mexc_gate_basis is defined by the venues it trades
    ("arb/strategies.py", "gateio_futures"),
}


def venue_words() -> tuple[set[str], set[str]]:
    """(names a string must not equal, fragments it must not contain) for every spec."""
    names: set[str] = set()
    fragments: set[str] = set()
    for s in SPECS:
        names |= {s.venue.value, s.key, s.label, *s.aliases}
        fragments |= set(s.credentials_env)
        fragments |= {urlsplit(getattr(s.defaults, k)).hostname or "" for k in URL_KEYS} - {""}
    return names, fragments


def hard_coded_venues(root: Path = SRC) -> list[str]:
    """`file:line word` for each string literal naming a venue, and each `Venue.X`, outside the
    allowed places."""
    names, fragments = venue_words()
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(ALLOWED_DIRS) or rel in ALLOWED_FILES:
            continue
        hits = []
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            word = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                word = text if text in names else next((f for f in sorted(fragments) if f in text), None)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Venue"
            ):
                word = f"Venue.{node.attr}"
            if word is not None and (rel, word) not in ALLOWED_WORDS:
                hits.append((node.lineno, node.col_offset, word))
        found += [f"src/cexarb/{rel}:{line} {word}" for line, _, word in sorted(hits)]
    return found


def test_no_module_outside_the_venue_packages_spells_a_venue_out():
    found = hard_coded_venues()
    assert not found, "read these from cexarb.config.venue_specs() instead:\n" + "\n".join(found)


def test_credential_variables_are_named_only_in_their_spec():
    """The venue packages' own hints read the names from the spec too."""
    names = {var for s in SPECS for var in s.credentials_env}
    found = [
        f"{path.relative_to(SRC)}: {var}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "spec.py"
        for var in sorted(names)
        if var in path.read_text()
    ]
    assert not found, found


def test_the_scan_catches_a_venue_list_a_name_a_url_and_an_enum_member(tmp_path):
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "names.py").write_text(
        'KEYS = ("mexc_spot", "GATE-F")\nHINT = "set CEXARB_MEXC_API_KEY"\n'
        'URL = "https://api.gateio.ws/api/v4"\nfrom cexarb.model import Venue\nV = Venue.MEXC\n'
        '"""A docstring may say mexc_spot in a sentence."""\n'
    )
    (tmp_path / "venues" / "mexc").mkdir(parents=True)
    (tmp_path / "venues" / "mexc" / "spec.py").write_text('KEY = "mexc_spot"\n')
    assert hard_coded_venues(tmp_path) == [
        "src/cexarb/cli/names.py:1 mexc_spot",
        "src/cexarb/cli/names.py:1 GATE-F",
        "src/cexarb/cli/names.py:2 CEXARB_MEXC_API_KEY",
        "src/cexarb/cli/names.py:3 api.gateio.ws",
        "src/cexarb/cli/names.py:5 Venue.MEXC",
    ]
