"""Typed errors. Each carries the venue, the venue's own code and message, the HTTP
status when there was one, and a hint that says what the caller should do.

No error carries a "retryable" flag: whether a request is repeated depends on the error's
type *and* on whether the request is safe to repeat, which only the transport knows
(`cexarb.transport.http`: a 5xx is retried for a GET, never for an order placement)."""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every error cexarb raises about a venue."""

    hint = "see the venue's message"

    def __init__(
        self,
        message: str,
        *,
        venue: str = "",
        code: str | int | None = None,
        http_status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.venue = venue
        self.code = code
        self.http_status = http_status
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        parts = []
        if self.venue:
            parts.append(f"[{self.venue}]")
        parts.append(self.message)
        if self.code is not None:
            parts.append(f"(code={self.code}")
            parts[-1] += f", http={self.http_status})" if self.http_status else ")"
        elif self.http_status:
            parts.append(f"(http={self.http_status})")
        parts.append(f"-> {self.hint}")
        return " ".join(parts)

    def __reduce__(self):  # keep keyword fields through pickling / copying
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls, message, state):
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class NetworkError(ExchangeError):
    """Timeouts, connection loss, 5xx: the request may be retried if it is safe to repeat."""

    hint = "transient network or venue failure; safe requests are retried, check connectivity if it persists"


class RateLimitError(ExchangeError):
    hint = "slow down; wait retry_after seconds before the next request on this pool"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AuthenticationError(ExchangeError):
    hint = "check the API key and secret, their permissions and the key's IP allow-list"


class TimestampError(AuthenticationError):
    hint = "the local clock is off the venue's; the client resyncs its offset, check NTP if it repeats"


class InvalidOrder(ExchangeError):
    hint = "fix the order parameters against the symbol's rules (tick, step, minimums)"


class InsufficientBalance(InvalidOrder):
    hint = "not enough available balance; reduce the size or free locked funds"


class BelowMinimum(InvalidOrder):
    hint = "raise the quantity or notional above the symbol's minimum"


class InvalidPrice(InvalidOrder):
    hint = "round the price to the tick size and keep it inside the venue's price limits"


class PostOnlyWouldTake(InvalidOrder):
    hint = "a post-only order would have crossed the book; reprice it away from the touch"


class OrderNotFound(ExchangeError):
    hint = "the order does not exist on the venue (or is too old to query); refresh open orders"


class WithdrawalError(ExchangeError):
    hint = "check asset, network, address, memo, minimum amount and withdrawal permission"


class ProtocolError(ExchangeError):
    """A payload we cannot parse, or a request the venue refused for its wire format: the venue
    changed its format or one side sent garbage."""

    hint = "the venue sent a payload cexarb cannot parse; it was logged with context"


class OrderStatusUnknown(ExchangeError):
    """A place/cancel whose outcome the network hid; resolve it by querying the client id."""

    hint = "do not resend; query the order by its client order id to learn whether it exists"

    def __init__(self, message: str, *, client_order_id: str | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.client_order_id = client_order_id


class SubscriptionRejected(ExchangeError):
    """The venue refused a stream subscription: the channel will stay silent."""

    hint = "check the channel name, that the symbol trades, and the venue's per-connection topic limit"

    def __init__(self, message: str, *, channels: tuple[str, ...] = (), **kw) -> None:
        super().__init__(message, **kw)
        self.channels = channels


class ConfigError(ValueError):
    """Bad configuration: names the offending key."""


class JournalError(Exception):
    """The journal's database refused something (a bad URL, a schema newer than this
    code); `hint` says what to do. Not an ExchangeError: no venue is involved."""

    hint = "check the --journal URL and that the database accepts this user"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} -> {self.hint}"


class JournalUnavailable(JournalError):
    """The journal's database cannot be reached now; the journal spools and retries."""

    hint = "events are spooled to a local file and written when the database is back"


class InitializationError(ExchangeError):
    """A composite failed to initialize; `step` names where, `__cause__` holds why."""

    hint = "everything opened was closed; fix the cause and initialize again"

    def __init__(self, message: str, *, step: str, **kw) -> None:
        super().__init__(message, **kw)
        self.step = step


class CoordinatorUnavailable(Exception):
    """The fleet's shared state (Redis) could not be reached for an operation that needs it."""

    hint = "check that the coordinator URL is right and the Redis server is up, then run the command again"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} -> {self.hint}"
