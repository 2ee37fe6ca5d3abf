"""Frame handling both MEXC spot streams share: binary frames are protobuf pushes, decoded
and handed to the handler of their model type in arrival order; text frames are JSON control
replies (acks, PONG, errors), each stream reading them its own way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cexarb.model.errors import ProtocolError
from cexarb.venues.mexc.channels import ControlReply, decode_control
from cexarb.venues.mexc.errors import VENUE
from cexarb.venues.mexc.push_codec import PushDecoder


class PushStream:
    """Subclasses set `_handlers` (error goes there), `_decoder` and `_route` (model type ->
    handler) and read text frames in `_on_text`."""

    _handlers: Any
    _decoder: PushDecoder
    _route: dict[type, Callable[[Any], None]]

    # --- hot path ----------------------------------------------------------------------------

    def _on_message(self, data: str | bytes) -> None:
        if type(data) is bytes:
            try:
                events = self._decoder.decode(data)
            except ProtocolError as exc:
                self._handlers.error(exc)
                raise  # the WsClient counts it as a bad frame and logs it once per kind
            route = self._route
            for event in events:
                route[type(event)](event)
            return
        self._on_text(data)

    def _on_text(self, text: str) -> None:
        raise NotImplementedError

    def _control(self, text: str) -> ControlReply:
        """The control reply a text frame must be; anything else is reported and raised."""
        reply = decode_control(text)
        if reply is None:
            err = ProtocolError(f"unexpected text frame: {str(text)[:200]}", venue=VENUE)
            self._handlers.error(err)
            raise err
        return reply
