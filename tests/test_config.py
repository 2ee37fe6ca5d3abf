import pickle

import pytest

from cexarb.config import (
    Config,
    RateLimitPool,
    Secret,
    VenueConfig,
    default_config,
    is_local_url,
    load_config,
)
from cexarb.model.enums import Market, Venue
from cexarb.model.errors import ConfigError

KEY = "mx0vglTESTKEY000001"
SECRET = "0123456789abcdef0123456789abcdef"


def _with_credentials() -> VenueConfig:
    base = default_config().get("mexc", "spot")
    return VenueConfig(
        venue=base.venue,
        market=base.market,
        rest_url=base.rest_url,
        ws_url=base.ws_url,
        api_key=Secret(KEY),
        api_secret=Secret(SECRET),
    )


def test_secret_never_shows_in_repr_str_or_fstrings_of_venue_config():
    cfg = _with_credentials()
    renderings = [repr(cfg), str(cfg), f"{cfg}", f"{cfg!r}", f"{cfg.api_secret}", f"{cfg.api_key!s}"]
    renderings.append("%s %r" % (cfg, cfg))  # noqa: UP031 - the way logging renders arguments
    renderings += [repr(Config({(cfg.venue, cfg.market): cfg})), repr(cfg.api_secret), str([cfg.api_secret])]
    for text in renderings:
        assert SECRET not in text
        assert KEY not in text
    assert "Secret('***')" in repr(cfg)
    assert cfg.api_secret.reveal() == SECRET
    assert cfg.has_credentials()


def test_empty_secret_is_falsy_and_says_so():
    assert not Secret("")
    assert repr(Secret("")) == "Secret('')"
    assert not default_config().get("gateio", "spot").has_credentials()
    assert not default_config().get("gateio", "spot").has_credentials  # read or called, the same


def test_secret_equality_does_not_leak():
    assert Secret("a-long-secret") == Secret("a-long-secret")
    assert Secret("a-long-secret") != Secret("another-secret")
    assert Secret("a-long-secret") != "a-long-secret"


def test_defaults_cover_the_three_markets():
    cfg = load_config(env={})
    assert set(cfg.venues) == {
        (Venue.MEXC, Market.SPOT),
        (Venue.GATEIO, Market.SPOT),
        (Venue.GATEIO, Market.FUTURES),
    }
    assert cfg.get("gateio", "futures").ws_url.startswith("wss://")
    assert cfg.get(Venue.MEXC, Market.SPOT).rate_limits["default"] == RateLimitPool(500, 10.0)
    assert cfg.get(Venue.GATEIO, Market.SPOT).rate_limits["withdraw"] == RateLimitPool(1, 3.0)


def test_get_unknown_market_names_it():
    with pytest.raises(ConfigError, match="mexc futures"):
        default_config().get("mexc", "futures")


def test_file_values_are_applied(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text(
        """
[gateio.spot]
rest_url = "http://127.0.0.1:9000/api/v4"
ws_url = "ws://127.0.0.1:9000/ws/v4/"
request_timeout_s = 2
recv_window_ms = 10000
rate_limits = { orders = { capacity = 5, period_s = 1 } }
"""
    )
    cfg = load_config(path, env={}).get("gateio", "spot")
    assert cfg.rest_url == "http://127.0.0.1:9000/api/v4"
    assert cfg.request_timeout_s == 2.0 and isinstance(cfg.request_timeout_s, float)
    assert cfg.recv_window_ms == 10000
    assert cfg.rate_limits["orders"] == RateLimitPool(5, 1.0)
    assert cfg.rate_limits["default"] == RateLimitPool(200, 10.0)  # other pools kept
    assert load_config(path, env={}).get("gateio", "futures").rest_url == "https://api.gateio.ws/api/v4"


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[gateio.spot]\nrest_url = "ftp://x"', "gateio.spot.rest_url"),
        ("[gateio.spot]\nws_url = 5", "gateio.spot.ws_url"),
        ("[mexc.spot]\nrequest_timeout_s = -1", "mexc.spot.request_timeout_s"),
        ("[mexc.spot]\nping_interval_s = true", "mexc.spot.ping_interval_s"),
        ('[mexc.spot]\nsilence_timeout_s = "30"', "mexc.spot.silence_timeout_s"),
        ("[mexc.spot]\nrecv_window_ms = 1.5", "mexc.spot.recv_window_ms"),
        ("[gateio.futures]\nuser_id = true", "gateio.futures.user_id"),
        ("[gateio.futures]\nuser_id = -3", "gateio.futures.user_id"),
        ("[mexc.spot]\napi_key = 123", "mexc.spot.api_key"),
        ("[mexc.spot]\nbogus = 1", "mexc.spot.bogus"),
        ("[mexc.spot]\nrate_limits = 5", "mexc.spot.rate_limits"),
        ("[mexc.spot.rate_limits]\norders = { capacity = 0, period_s = 1 }", "mexc.spot.rate_limits.orders"),
        (
            "[mexc.spot.rate_limits]\norders = { capacity = true, period_s = 1 }",
            "mexc.spot.rate_limits.orders",
        ),
        ("[mexc.spot.rate_limits]\norders = { capacity = 5 }", "mexc.spot.rate_limits.orders"),
        ("[binance.spot]\nrest_url = 'http://x'", "binance"),
        ("[gateio.options]\nrest_url = 'http://x'", "gateio.options"),
        ("[mexc.futures]\nrest_url = 'http://x'", "mexc.futures"),
        ("[mexc]\nspot = 1", "mexc.spot"),
        ("mexc = 1", "mexc"),
    ],
)
def test_validation_errors_name_the_bad_key(tmp_path, toml, named):
    path = tmp_path / "cexarb.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(path, env={})


def test_missing_or_invalid_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[gateio.spot\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, env={})


def test_env_credentials_apply_to_every_market_of_the_venue(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text('[gateio.spot]\napi_key = "from-file-key"\napi_secret = "from-file-secret"\n')
    env = {"CEXARB_GATEIO_API_KEY": "env-gate-key", "CEXARB_GATEIO_API_SECRET": "env-gate-secret"}
    cfg = load_config(path, env=env)
    for market in ("spot", "futures"):
        gate = cfg.get("gateio", market)
        assert gate.api_key.reveal() == "env-gate-key"
        assert gate.api_secret.reveal() == "env-gate-secret"
    assert not cfg.get("mexc", "spot").has_credentials()


def test_file_credentials_are_used_without_env(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text('[mexc.spot]\napi_key = "file-key"\napi_secret = "file-secret"\n')
    cfg = load_config(path, env={})
    assert cfg.get("mexc", "spot").api_secret.reveal() == "file-secret"
    assert "file-secret" not in repr(cfg)


@pytest.mark.parametrize("present", ["CEXARB_MEXC_API_KEY", "CEXARB_MEXC_API_SECRET"])
def test_half_set_env_credentials_name_both_variables(present):
    with pytest.raises(ConfigError, match="CEXARB_MEXC_API_KEY and CEXARB_MEXC_API_SECRET"):
        load_config(env={present: "x"})


def test_with_venue_replaces_one_market_only():
    cfg = default_config()
    local = VenueConfig(Venue.MEXC, Market.SPOT, "http://127.0.0.1:1", "ws://127.0.0.1:1/ws")
    updated = cfg.with_venue(local)
    assert updated.get("mexc", "spot") is local
    assert cfg.get("mexc", "spot").rest_url == "https://api.mexc.com"
    assert updated.get("gateio", "spot") == cfg.get("gateio", "spot")


def test_config_error_is_a_value_error_and_pickles():
    err = ConfigError("unknown key x.y")
    assert isinstance(err, ValueError)
    assert str(pickle.loads(pickle.dumps(err))) == "unknown key x.y"


def test_unknown_key_lists_the_valid_keys(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text('[mexc.spot]\nrest = "http://127.0.0.1:1"')
    with pytest.raises(
        ConfigError, match="unknown key mexc.spot.rest; valid keys: api_key, api_secret, .*rest_url"
    ):
        load_config(path, env={})


def test_a_private_stream_left_unset_follows_the_public_one_to_the_simulator(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text('[mexc.spot]\nrest_url = "http://127.0.0.1:9002"\nws_url = "ws://127.0.0.1:9002/ws"\n')
    cfg = load_config(path, env={}).get("mexc", "spot")
    # The default (wss://wbs-api.mexc.com/ws) would open the account's stream on the real venue.
    assert cfg.private_ws_url == "ws://127.0.0.1:9002/ws"


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        # REST at the simulator, the public stream still the venue's default.
        (
            '[mexc.spot]\nrest_url = "http://127.0.0.1:9002"',
            "ws_url = wss://wbs-api.mexc.com/ws \\(the default\\)",
        ),
        ('[gateio.futures]\nws_url = "ws://localhost:9001/v4/ws/usdt"', "rest_url = https://api.gateio.ws"),
        # Both set by the user, one local and one real.
        (
            '[gateio.spot]\nrest_url = "https://api.gateio.ws/api/v4"\nws_url = "ws://10.0.0.5:9000/ws/v4/"',
            "rest_url = https://api.gateio.ws/api/v4;",
        ),
        (
            '[mexc.spot]\nrest_url = "http://127.0.0.1:1"\nws_url = "ws://127.0.0.1:1/ws"\n'
            'private_ws_url = "wss://wbs-api.mexc.com/ws"',
            "private_ws_url",
        ),
    ],
)
def test_one_venue_never_mixes_local_and_real_hosts(tmp_path, toml, named):
    path = tmp_path / "cexarb.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match="mixes local and real hosts.*" + named):
        load_config(path, env={})


def test_venues_used_together_are_all_local_or_all_real(tmp_path):
    path = tmp_path / "cexarb.toml"
    path.write_text(
        '[gateio.spot]\nrest_url = "http://127.0.0.1:9000/api/v4"\nws_url = "ws://127.0.0.1:9000/ws/v4/"\n'
    )
    config = load_config(path, env={})
    config.check_one_target([(Venue.GATEIO, Market.SPOT)])  # alone: fine
    with pytest.raises(
        ConfigError, match="gateio.spot point at this machine .* but mexc.spot, gateio.futures"
    ):
        config.check_one_target(
            [(Venue.GATEIO, Market.SPOT), (Venue.MEXC, Market.SPOT), (Venue.GATEIO, Market.FUTURES)]
        )
    default_config().check_one_target([(Venue.GATEIO, Market.SPOT), (Venue.MEXC, Market.SPOT)])


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:9000", True),
        ("ws://localhost:1/ws", True),
        ("http://[::1]:80", True),
        ("http://192.168.1.10", True),
        ("https://api.mexc.com", False),
        ("wss://fx-ws.gateio.ws/v4/ws/usdt", False),
        ("http://8.8.8.8", False),
    ],
)
def test_local_urls_are_recognised(url, local):
    assert is_local_url(url) is local


def test_an_unknown_arb_key_lists_the_valid_keys():
    from cexarb.arb.config import arb_config_from_mapping

    with pytest.raises(ConfigError, match="unknown key arb.min_edge; valid keys: .*min_edge_bps"):
        arb_config_from_mapping({"min_edge": 5})


def test_keep_warm_is_read_from_the_arb_table_and_never_negative():
    from cexarb.arb.config import arb_config_from_mapping

    assert arb_config_from_mapping({"keep_warm_s": 0.001}).keep_warm_s == 0.001
    assert arb_config_from_mapping({}).keep_warm_s == 0.0  # off unless asked for
    with pytest.raises(ConfigError, match="arb.keep_warm_s must not be negative"):
        arb_config_from_mapping({"keep_warm_s": -1})
