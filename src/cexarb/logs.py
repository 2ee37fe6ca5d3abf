"""Logging that never blocks the event loop, never leaks a secret, and reads as key=value.

Records go through a QueueHandler; a QueueListener thread formats and writes them. The
redacting filter runs in that thread on the fully formatted text (message + traceback).
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import math
import queue
import sys
import time
from typing import Any, TextIO

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Shorter values would redact ordinary words; real keys and secrets are long.
_MIN_SECRET_LEN = 6
_secrets: set[str] = set()
_listener: logging.handlers.QueueListener | None = None
_queue_handler: logging.handlers.QueueHandler | None = None


def register_secret(value: str) -> None:
    """Redact `value` from every record written from now on."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = redact(record.getMessage())
            record.args = None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
        return True


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route the root logger through a queue to `stream` (stderr). Calling again replaces the setup."""
    global _listener, _queue_handler
    root = logging.getLogger()
    shutdown_logging()
    output = logging.StreamHandler(stream if stream is not None else sys.stderr)
    output.setFormatter(logging.Formatter(_FORMAT))
    output.addFilter(RedactingFilter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _queue_handler = logging.handlers.QueueHandler(records)
    _listener = logging.handlers.QueueListener(records, output, respect_handler_level=True)
    root.addHandler(_queue_handler)
    root.setLevel(level.upper())
    _listener.start()


def flush_logging() -> None:
    """Write everything queued so far (stops and restarts the writer thread)."""
    if _listener is not None:
        _listener.stop()
        _listener.start()


def shutdown_logging() -> None:
    """Write what is queued and detach from the root logger (at exit, and in tests)."""
    global _listener, _queue_handler
    if _queue_handler is not None:
        logging.getLogger().removeHandler(_queue_handler)
        _queue_handler = None
    if _listener is not None:
        _listener.stop()
        _listener = None


atexit.register(shutdown_logging)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


# Significant digits a logged float keeps: enough for any price, size or PnL, and no float
# noise (153.79325453000001, 0.30000000000000004). Integer digits are never dropped.
_FLOAT_DIGITS = 10


def _float_text(value: float) -> str:
    if value == 0.0 or not math.isfinite(value):
        return repr(value)
    decimals = _FLOAT_DIGITS - 1 - math.floor(math.log10(abs(value)))
    return repr(round(value, max(decimals, 0)))


def _kv_value(value: Any) -> str:
    text = value if isinstance(value, str) else _float_text(value) if isinstance(value, float) else str(value)
    if not text or any(c in text for c in ' "=\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def format_kv(event: str, fields: dict[str, Any]) -> str:
    if not fields:
        return event
    return event + " " + " ".join(f"{key}={_kv_value(value)}" for key, value in fields.items())


def log_kv(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """One structured record: `event key=value key="quoted value"`; built only if enabled."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", format_kv(event, fields), stacklevel=2)


class LoggingTimer:
    """`with LoggingTimer("load", logger) as t: ...` -> `t.elapsed_ms`; logs `load elapsed_ms=..` at exit
    when given a logger."""

    __slots__ = ("name", "logger", "level", "fields", "_start", "_elapsed_ms")

    def __init__(
        self, name: str, logger: logging.Logger | None = None, level: int = logging.DEBUG, **fields: Any
    ) -> None:
        self.name = name
        self.logger = logger
        self.level = level
        self.fields = fields
        self._start = 0.0
        self._elapsed_ms: float | None = None

    @property
    def elapsed_ms(self) -> float:
        """Frozen once the block exits; while it runs, the time so far."""
        if self._elapsed_ms is not None:
            return self._elapsed_ms
        return (time.perf_counter() - self._start) * 1000.0

    def __enter__(self) -> LoggingTimer:
        self._elapsed_ms = None
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._elapsed_ms = (time.perf_counter() - self._start) * 1000.0
        if self.logger is not None:
            fields = dict(self.fields, elapsed_ms=round(self._elapsed_ms, 3))
            if exc_type is not None:
                fields["error"] = exc_type.__name__
            log_kv(self.logger, self.level, self.name, **fields)
