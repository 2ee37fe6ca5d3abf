"""Structured key=value decision records: `event=taken symbol=BTC/USDT qty=0.01 ...`."""

from __future__ import annotations

import logging


def _text(value: object) -> str:
    if isinstance(value, float):
        text = f"{value:.10g}"
    else:
        text = str(value)
    if not text or any(c in text for c in ' "='):
        return '"' + text.replace('"', "'") + '"'
    return text


def trace(logger: logging.Logger, level: int, event: str, **fields: object) -> None:
    """Log one decision as key=value pairs; formatting is skipped when the level is off."""
    if logger.isEnabledFor(level):
        logger.log(level, "event=%s %s", event, " ".join(f"{k}={_text(v)}" for k, v in fields.items()))
