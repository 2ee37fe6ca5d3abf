"""cexarb.logs (lives here because the transport engineer owns both)."""

import io
import logging
import logging.handlers

import pytest

from cexarb import logs
from cexarb.logs import (
    LoggingTimer,
    flush_logging,
    format_kv,
    get_logger,
    log_kv,
    register_secret,
    setup_logging,
)


@pytest.fixture
def stream():
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    setup_logging("DEBUG", out)
    yield out
    logs.shutdown_logging()
    root.setLevel(level)


def test_records_go_through_a_queue_to_the_stream(stream):
    assert any(isinstance(h, logging.handlers.QueueHandler) for h in logging.getLogger().handlers)
    log_kv(get_logger("cexarb.test"), logging.INFO, "order_placed", venue="gateio", qty=0.5, note="two words")
    flush_logging()
    line = stream.getvalue().strip()
    assert line.endswith('INFO cexarb.test order_placed venue=gateio qty=0.5 note="two words"')


def test_level_filters_before_formatting(stream):
    logging.getLogger().setLevel(logging.WARNING)
    log_kv(get_logger("cexarb.test"), logging.INFO, "hidden")
    flush_logging()
    assert stream.getvalue() == ""


def test_registered_secrets_are_redacted_from_messages_and_tracebacks(stream):
    register_secret("sk-very-secret-123")
    logger = get_logger("cexarb.test")
    logger.warning("signing with %s", "sk-very-secret-123")
    try:
        raise ValueError("bad key sk-very-secret-123")
    except ValueError:
        logger.exception("failed")
    flush_logging()
    text = stream.getvalue()
    assert "sk-very-secret-123" not in text
    assert "signing with ***" in text
    assert "ValueError: bad key ***" in text


def test_short_values_are_not_registered_as_secrets(stream):
    register_secret("a")
    get_logger("cexarb.test").info("a cat")
    flush_logging()
    assert "a cat" in stream.getvalue()


def test_format_kv_quotes_what_needs_quoting():
    assert format_kv("ev", {}) == "ev"
    assert format_kv("ev", {"a": "", "b": 'say "hi"', "c": "x=y", "d": 1.5, "e": None}) == (
        'ev a="" b="say \\"hi\\"" c="x=y" d=1.5 e=None'
    )


def test_logging_timer_measures_and_logs(stream):
    with LoggingTimer("load_symbols", get_logger("cexarb.test"), logging.INFO, venue="mexc") as timer:
        sum(range(10_000))
        running = timer.elapsed_ms
    assert timer.elapsed_ms >= running > 0
    assert timer.elapsed_ms == timer.elapsed_ms  # frozen after exit
    flush_logging()
    assert "load_symbols venue=mexc elapsed_ms=" in stream.getvalue()


def test_logging_timer_notes_the_error(stream):
    with pytest.raises(KeyError), LoggingTimer("lookup", get_logger("cexarb.test"), logging.INFO):
        raise KeyError("x")
    flush_logging()
    assert "lookup elapsed_ms=" in stream.getvalue()
    assert "error=KeyError" in stream.getvalue()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (153.79325453000001, "153.7932545"),  # float noise gone, 10 significant digits kept
        (0.30000000000000004, "0.3"),
        (-117.123456789123, "-117.1234568"),
        (1.2345678912345e-05, "1.234567891e-05"),
        (1732900000123.4, "1732900000123.0"),  # integer digits are never dropped
        (60000.0, "60000.0"),
        (0.0, "0.0"),
        (float("inf"), "inf"),
    ],
)
def test_logged_floats_keep_meaningful_digits_only(value, text):
    assert format_kv("e", {"v": value}) == f"e v={text}"
