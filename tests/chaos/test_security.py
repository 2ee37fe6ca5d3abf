"""Security: a wrong secret is rejected as an AuthenticationError; the key and secrets never appear
in logs (raw records and the redacted output), reprs, errors, stats or the audit log, while
the client trades, reconnects, fails and withdraws; withdrawals refuse invalid addresses."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from dataclasses import replace

import pytest

from cexarb.config import Secret
from cexarb.exchange.capabilities import WithdrawalCapability
from cexarb.logs import setup_logging, shutdown_logging
from cexarb.model import WithdrawalRequest
from cexarb.model.errors import AuthenticationError, ExchangeError, InitializationError, WithdrawalError
from cexarb.sim import SimAccount, SimConfig, Simulator
from tests.support import eventually

from .rig import MARKETS, SYMBOLS, make_exchange, quiesce, trade

KEY = "chaosKEY-7f3a9c2e1d5b"
SECRET = "chaosSECRET-4b8e1f6a9d0c3e7f"
WRONG = "chaosWRONG-0a1b2c3d4e5f6a7b"
VALID_TRON = "T" + "Ab3" * 11
NETWORK = {"mexc_spot": "TRC20", "gateio_spot": "TRX"}
AUTH_FAILURE = {
    "mexc_spot": b'{"code":700002,"msg":"Signature for this request is not valid."}',
    "gateio_spot": b'{"label":"INVALID_SIGNATURE","message":"Signature mismatch"}',
    "gateio_futures": b'{"label":"INVALID_SIGNATURE","message":"Signature mismatch"}',
}
BAD_ADDRESSES = [
    "not an address",
    "",
    "T" + "0" * 33,  # 0 is not base58
    VALID_TRON[:-1],  # one character short
    " " + VALID_TRON,
    VALID_TRON + "\n",
    VALID_TRON + ";rm -rf /",
    "0x" + "a" * 40,  # an EVM address on a TRON network
]


@pytest.fixture
async def secret_sim():
    account = SimAccount(KEY, SECRET, {"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0, "SOL": 500.0})
    async with Simulator(SimConfig(seed=3, accounts=(account,), flow=True, withdrawal_delay_s=0.1)) as sim:
        yield sim


@pytest.fixture
def log_output():
    """cexarb's own logging (queue + redaction) to a buffer, at DEBUG, for the test's duration."""
    out = io.StringIO()
    setup_logging("DEBUG", stream=out)
    yield out
    shutdown_logging()
    logging.getLogger().setLevel(logging.WARNING)


def wrong_secret_config(sim):
    config = sim.client_config(KEY)
    for venue_config in list(config.venues.values()):
        config = config.with_venue(replace(venue_config, api_secret=Secret(WRONG)))
    return config


def leaks(texts: list[str]) -> list[str]:
    return [t[:300] for t in texts if SECRET in t or WRONG in t or KEY in t]


@pytest.mark.parametrize("market", MARKETS)
async def test_secrets_never_leave_and_wrong_ones_are_refused(secret_sim, exchanges, figures, market, caplog, capsys, log_output):  # fmt: skip
    sim = secret_sim
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    # A wrong secret: refused, and reported as an authentication failure.
    bad = make_exchange(sim, market, config=wrong_secret_config(sim))
    with pytest.raises(InitializationError) as failed:
        await asyncio.wait_for(bad.initialize(SYMBOLS), 30)
    assert isinstance(failed.value.__cause__, AuthenticationError), repr(failed.value.__cause__)
    rest = bad._create_private_rest()
    with pytest.raises(AuthenticationError) as refused:
        await rest.get_balances()
    await rest.close()
    seen += [str(failed.value), repr(failed.value), str(failed.value.__cause__), str(refused.value)]
    seen += [repr(bad), repr(bad.config), str(bad.config)]

    # The right one, through trading, stream drops, REST faults and withdrawals.
    config = sim.client_config(KEY)
    ex = make_exchange(sim, market, config=config)
    exchanges.append(ex)
    await asyncio.wait_for(ex.initialize(SYMBOLS), 30)
    done = await trade(ex, 0.5)
    sim.faults.drop_streams(market)  # reconnects log, and log in again with the secret
    assert await eventually(lambda: ex.get_trading_stats()["private_reconnects"] >= 1)
    more = await trade(ex, 0.5, seed=2)
    sim.faults.fail_next_rest(market, 1, 401, AUTH_FAILURE[market])  # a signed call refused
    try:
        await ex.reload_balances()
    except ExchangeError as exc:
        seen += [str(exc), repr(exc)]
    withdrawals = 0
    if isinstance(ex, WithdrawalCapability):
        for address in BAD_ADDRESSES:
            with pytest.raises(WithdrawalError) as invalid:
                await ex.withdraw(WithdrawalRequest("USDT", 25.0, address, NETWORK[market]))
            assert f"[{ex.name}]" in str(invalid.value), (
                f"{address!r} was refused by the venue, not the client"
            )
            seen.append(str(invalid.value))
        assert sim.truth(market, KEY).withdrawals == []  # nothing invalid reached the venue
        sent = await ex.withdraw(WithdrawalRequest("USDT", 25.0, VALID_TRON, NETWORK[market]))
        withdrawals = len(sim.truth(market, KEY).withdrawals)
        assert withdrawals == 1 and sent.withdrawal_id
    await quiesce(ex, sim, market)
    seen += [repr(ex), repr(config), repr(ex.config), json.dumps(ex.get_trading_stats(), default=str)]
    seen += [repr(client) for _, client in ex.clients]

    records = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("ws_reconnected" in text for text in records)  # the scan saw the client's logs
    audit = [r.getMessage() for r in caplog.records if r.name == "cexarb.audit"]
    assert not isinstance(ex, WithdrawalCapability) or audit, "the withdrawal left no audit record"
    shutdown_logging()  # flush cexarb's own output before reading it
    captured = capsys.readouterr()
    texts = seen + records + [log_output.getvalue(), captured.out, captured.err]
    assert not leaks(texts), leaks(texts)
    figures.update(
        market=market,
        texts_scanned=len(texts),
        log_records=len(records),
        bad_addresses_refused=len(BAD_ADDRESSES) if withdrawals else 0,
        orders=done.placed + done.market_orders + more.placed + more.market_orders,
        secret_leaks=0,
    )
