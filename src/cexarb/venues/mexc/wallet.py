"""MEXC spot wallet endpoints (signed): withdraw, withdrawal history, asset networks.

A mixin of `MexcSpotPrivateRest`; it only needs the host's `_signed` request helper.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cexarb.model import (
    DepositAddress,
    DepositRecord,
    WithdrawalRequest,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.errors import ExchangeError, InvalidOrder, ProtocolError, WithdrawalError
from cexarb.model.rounding import format_decimal
from cexarb.venues.mexc import codec
from cexarb.venues.mexc.errors import VENUE

_W_CAPITAL_CONFIG = 10  # endpoint weight (mexc_spot.md 3.3)


class MexcWalletMixin:
    # Provided by the host class: a signed request whose reply is checked for error bodies.
    _signed: Any

    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse:
        params = {
            "coin": request.asset,
            "address": request.address,
            "amount": format_decimal(request.amount),
            "netWork": request.network,
            "memo": request.memo,
            "withdrawOrderId": request.client_id,
        }
        try:
            reply = await self._signed("POST", "/api/v3/capital/withdraw", params)
        except ExchangeError as exc:
            if type(exc) in (ExchangeError, InvalidOrder):
                raise WithdrawalError(
                    exc.message, venue=VENUE, code=exc.code, http_status=exc.http_status
                ) from exc
            raise
        if not isinstance(reply, dict) or not reply.get("id"):
            raise ProtocolError(f"withdraw reply without id: {reply!r}", venue=VENUE)
        return WithdrawalResponse(
            withdrawal_id=str(reply["id"]),
            asset=request.asset,
            amount=request.amount,
            address=request.address,
            network=request.network,
            status=WithdrawalStatus.PENDING,
        )

    async def get_withdrawals(self, asset: str | None = None, limit: int = 1000) -> list[WithdrawalResponse]:
        """Withdrawals of the last 7 days (MEXC's default window), newest first as the venue sends them."""
        params = {"coin": asset, "limit": limit}
        reply = await self._signed("GET", "/api/v3/capital/withdraw/history", params)
        return [codec.parse_withdrawal(item) for item in reply or ()]

    async def get_withdrawal(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse:
        """By MEXC's id, or by the `withdrawOrderId` it was sent with, from the history."""
        if not withdrawal_id and not client_id:
            raise WithdrawalError("give withdrawal_id or client_id", venue=VENUE)
        reply = await self._signed("GET", "/api/v3/capital/withdraw/history", {"coin": asset, "limit": 1000})
        for item in reply or ():
            withdrawal = codec.parse_withdrawal(item)
            if (withdrawal_id and withdrawal.withdrawal_id == withdrawal_id) or (
                not withdrawal_id and item.get("withdrawOrderId") == client_id
            ):
                return withdrawal
        raise WithdrawalError(
            f"withdrawal {withdrawal_id or client_id} not found in the last 7 days of history",
            venue=VENUE,
            hint="check the id (and asset); MEXC lists 7 days by default",
        )

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]:
        """The account's deposit address of `asset` on each network (or just `network`)."""
        params = {"coin": asset, "network": network}
        reply = await self._signed("GET", "/api/v3/capital/deposit/address", params, weight=10)
        return [codec.parse_deposit_address(item) for item in reply or ()]

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]:
        """Deposits (MEXC's default window: the last 7 days), oldest first."""
        params = {"coin": asset, "startTime": since_ms, "limit": 1000}
        reply = await self._signed("GET", "/api/v3/capital/deposit/hisrec", params)
        deposits = [codec.parse_deposit(item) for item in reply or ()]
        deposits.sort(key=lambda d: d.timestamp)
        return deposits

    async def get_asset_networks(
        self, assets: Iterable[str] | None = None
    ) -> dict[str, list[codec.AssetNetwork]]:
        reply = await self._signed("GET", "/api/v3/capital/config/getall", weight=_W_CAPITAL_CONFIG)
        networks = codec.parse_asset_networks(reply or [])
        if assets is None:
            return networks
        wanted = set(assets)
        return {asset: nets for asset, nets in networks.items() if asset in wanted}
