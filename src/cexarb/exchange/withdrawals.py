"""Withdrawals for private composites whose venue allows them (WithdrawalCapability).

`Withdrawals` does the work; a venue's private composite offers it by deriving from
`WithdrawingPrivateExchange` only when its connector implements `WithdrawalRest`: a
composite without it simply has no `withdraw`. Requests are validated before anything is
sent, and each one leaves an audit record (no credentials: the request holds none, and the
memo is only noted as present).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cexarb.exchange.private import CompositePrivateExchange
from cexarb.exchange.streamstate import StreamState
from cexarb.model import (
    AssetBalance,
    DepositAddress,
    DepositRecord,
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)
from cexarb.model.errors import WithdrawalError
from cexarb.venues.contracts import DepositRest, WithdrawalNetworkRest, WithdrawalRest

audit = logging.getLogger("cexarb.audit")

# Without the venue's pattern: printable, no spaces, a plausible length for any chain.
_GENERIC_ADDRESS = re.compile(r"[0-9A-Za-z:_.\-]{8,128}")
# Address formats of well-known chains, by the names venues give them, for venues that
# publish no pattern (Gate): a typo'd or wrong-chain address must not reach the venue.
_BASE58 = "[1-9A-HJ-NP-Za-km-z]"
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")
_KNOWN_ADDRESSES = {
    **dict.fromkeys(("TRX", "TRC20", "TRON"), re.compile(f"T{_BASE58}{{33}}")),
    **dict.fromkeys(
        ("ETH", "ERC20", "BSC", "BEP20", "ARBEVM", "ARBITRUM", "OPETH", "MATIC", "POLYGON"), _EVM
    ),
    "BTC": re.compile(f"(bc1[02-9ac-hj-np-z]{{11,71}}|[13]{_BASE58}{{25,34}})"),
    "SOL": re.compile(f"{_BASE58}{{32,44}}"),
}


# One chain under the names venues give it (MEXC `netWork`, Gate `chain`): a withdrawal on
# MEXC's TRC20 reaches a Gate deposit address listed under TRX.
_CHAINS = {
    **dict.fromkeys(("TRX", "TRC20", "TRON"), "TRON"),
    **dict.fromkeys(("ETH", "ERC20"), "ETH"),
    **dict.fromkeys(("BSC", "BEP20", "BEP20(BSC)"), "BSC"),
    **dict.fromkeys(("ARBEVM", "ARBITRUM"), "ARBITRUM"),
    **dict.fromkeys(("MATIC", "POLYGON"), "POLYGON"),
}


def chain_of(network: str) -> str:
    """The chain a venue's network name means (names no table knows stand for themselves)."""
    name = network.upper()
    return _CHAINS.get(name, name)


def validate_withdrawal(
    request: WithdrawalRequest,
    balance: AssetBalance | None,
    networks: list[WithdrawalNetwork] | None,
    *,
    venue: str = "",
) -> None:
    """Raise WithdrawalError naming the first problem; `networks` None = venue gives no config."""

    def fail(message: str) -> WithdrawalError:
        return WithdrawalError(f"withdrawal of {request.amount} {request.asset}: {message}", venue=venue)

    if not request.asset or not request.asset.isalnum():
        raise fail("asset must be a ticker like USDT")
    if not request.network:
        raise fail("network is required (e.g. TRX, ERC20)")
    if not request.amount > 0:
        raise fail("amount must be positive")
    pattern = _KNOWN_ADDRESSES.get(request.network.upper(), _GENERIC_ADDRESS)
    if networks is not None:
        config = next((n for n in networks if n.network.upper() == request.network.upper()), None)
        if config is None or not config.withdraw_enabled:
            known = ", ".join(n.network for n in networks if n.withdraw_enabled) or "none"
            raise fail(f"network {request.network} is not open for withdrawals (open: {known})")
        if request.amount < config.min_amount:
            raise fail(f"below the network minimum {config.min_amount}")
        if config.memo_required and not request.memo:
            raise fail(f"network {config.network} requires a memo/tag")
        if config.address_regex:
            pattern = re.compile(config.address_regex)
    if pattern.fullmatch(request.address or "") is None:
        raise fail(f"address {request.address!r} is not a valid {request.network} address")
    available = balance.available if balance is not None else 0.0
    if request.amount > available:
        raise fail(f"exceeds the available balance {available}")


class Withdrawals:
    """Withdrawals and deposits of one account, through the REST client `rest()` returns (it
    raises while there is none). `networks(asset)` gives the venue's network config (None:
    the venue gives none); without a live stream the balance is reloaded before validating."""

    def __init__(
        self,
        venue: str,
        rest: Callable[[], object],
        balances: Mapping[str, AssetBalance],
        *,
        networks: Callable[[str], Awaitable[list[WithdrawalNetwork] | None]],
        stream_up: Callable[[], bool],
        reload_balances: Callable[[], Awaitable[Any]],
    ) -> None:
        self._venue = venue
        self._rest = rest
        self._balances = balances
        self._networks = networks
        self._stream_up = stream_up
        self._reload_balances = reload_balances

    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse:
        """Validate against balance and networks, submit once, log for audit; returns the venue's answer."""
        rest = self._withdrawal_rest()
        networks = await self._networks(request.asset)
        if not self._stream_up():
            # Without the stream the local balance may be old: ask the venue.
            await self._reload_balances()
        validate_withdrawal(request, self._balances.get(request.asset), networks, venue=self._venue)
        response = await rest.withdraw(request)
        audit.info(
            "withdrawal venue=%s id=%s asset=%s amount=%s network=%s address=%s memo=%s status=%s",
            self._venue,
            response.withdrawal_id,
            request.asset,
            request.amount,
            request.network,
            request.address,
            "set" if request.memo else "none",
            response.status.value,
        )
        return response

    async def get_withdrawal_status(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse:
        """By the venue's id, or by the client id the request carried (`WithdrawalRequest.client_id`)."""
        return await self._withdrawal_rest().get_withdrawal(withdrawal_id, asset, client_id=client_id)

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]:
        """This account's deposit addresses for `asset` (one per network, or just `network`)."""
        return await self._deposit_rest().get_deposit_addresses(asset, network)

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]:
        """Deposits the venue lists (pending and credited), oldest first."""
        return await self._deposit_rest().get_deposits(asset, since_ms)

    def _deposit_rest(self) -> DepositRest:
        rest = self._rest()
        if not isinstance(rest, DepositRest):
            raise WithdrawalError(f"{self._venue}: the connector has no deposit API", venue=self._venue)
        return rest

    def _withdrawal_rest(self) -> WithdrawalRest:
        rest = self._rest()
        if not isinstance(rest, WithdrawalRest):
            raise WithdrawalError(f"{self._venue}: the connector cannot withdraw", venue=self._venue)
        return rest


class WithdrawingPrivateExchange(CompositePrivateExchange):
    """A private composite whose venue withdraws and lists deposits (its `Withdrawals`)."""

    def __init__(self, config, **kwargs) -> None:
        super().__init__(config, **kwargs)
        self._withdrawals = Withdrawals(
            self.name,
            self._require_private,
            self.balances,
            networks=self._withdrawal_networks,
            stream_up=self._private_stream_up,
            reload_balances=self.reload_balances,
        )

    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse:
        """Validate against balance and networks, submit once, log for audit; returns the venue's answer."""
        return await self._withdrawals.withdraw(request)

    async def get_withdrawal_status(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse:
        """By the venue's id, or by the client id the request carried (`WithdrawalRequest.client_id`)."""
        return await self._withdrawals.get_withdrawal_status(withdrawal_id, asset, client_id=client_id)

    async def get_withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork] | None:
        """The networks `asset` withdraws on, with fee and minimum (None: the venue gives none)."""
        return await self._withdrawal_networks(asset)

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]:
        """This account's deposit addresses for `asset` (one per network, or just `network`)."""
        return await self._withdrawals.get_deposit_addresses(asset, network)

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]:
        """Deposits the venue lists (pending and credited), oldest first."""
        return await self._withdrawals.get_deposits(asset, since_ms)

    async def _withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork] | None:
        """The venue's network config when the connector offers it (venues may override)."""
        rest = self._private_rest
        if isinstance(rest, WithdrawalNetworkRest):
            return await rest.get_withdrawal_networks(asset)
        return None

    def _private_stream_up(self) -> bool:
        return self.private_stream is StreamState.UP
