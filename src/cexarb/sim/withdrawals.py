"""Withdrawals: validation per asset/network, debit, and a status that moves with time.

Status is derived from the time elapsed since the request (PENDING, then
PROCESSING after half the delay, DONE after the delay), so no background task
is needed and a paused event loop cannot leave a withdrawal stuck.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from cexarb.model.enums import WithdrawalStatus
from cexarb.model.trading import WithdrawalResponse
from cexarb.sim.engine import RejectReason, SimReject


@dataclass(frozen=True, slots=True)
class SimNetwork:
    network: str
    min_amount: float
    fee: float
    address_regex: str
    withdraw_enabled: bool = True
    _pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(self.address_regex))

    def address_ok(self, address: str) -> bool:
        return self._pattern.fullmatch(address) is not None


_EVM = r"0x[0-9a-fA-F]{40}"
_TRON = r"T[1-9A-HJ-NP-Za-km-z]{33}"
_BTC = r"(bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})"
_SOL = r"[1-9A-HJ-NP-Za-km-z]{32,44}"


def gateio_networks() -> dict[str, list[SimNetwork]]:
    """Gate chain names (the `chain` field of POST /withdrawals)."""
    return {
        "USDT": [SimNetwork("TRX", 1.0, 1.0, _TRON), SimNetwork("ETH", 10.0, 3.0, _EVM)],
        "BTC": [SimNetwork("BTC", 0.001, 0.0002, _BTC)],
        "ETH": [SimNetwork("ETH", 0.01, 0.0015, _EVM)],
        "SOL": [SimNetwork("SOL", 0.1, 0.01, _SOL)],
    }


def mexc_networks() -> dict[str, list[SimNetwork]]:
    """MEXC `netWork` values."""
    return {
        "USDT": [SimNetwork("TRC20", 1.0, 1.0, _TRON), SimNetwork("ERC20", 10.0, 3.0, _EVM)],
        "BTC": [SimNetwork("BTC", 0.001, 0.0002, _BTC)],
        "ETH": [SimNetwork("ERC20", 0.01, 0.0015, _EVM)],
        "SOL": [SimNetwork("SOL", 0.1, 0.01, _SOL)],
    }


class WithdrawalDesk:
    """Validates and tracks the withdrawals of one venue."""

    def __init__(self, networks: dict[str, list[SimNetwork]], delay_s: float = 1.0) -> None:
        self.networks = networks
        self.delay_s = delay_s
        self._started: dict[str, float] = {}  # withdrawal id -> monotonic time of the request
        self._next_id = 5_000_001

    def network_config(self, asset: str) -> list[SimNetwork]:
        return list(self.networks.get(asset.upper(), ()))

    def validate(self, asset: str, amount: float, address: str, network: str) -> SimNetwork:
        nets = self.networks.get(asset.upper())
        if not nets:
            raise SimReject(RejectReason.WITHDRAW_INVALID_ASSET, f"{asset} cannot be withdrawn here")
        net = next((n for n in nets if n.network.upper() == (network or "").upper()), None)
        if net is None or not net.withdraw_enabled:
            known = ", ".join(n.network for n in nets if n.withdraw_enabled)
            raise SimReject(
                RejectReason.WITHDRAW_INVALID_NETWORK,
                f"{asset} network {network!r} unavailable; use one of {known}",
            )
        if not address or not net.address_ok(address):
            raise SimReject(
                RejectReason.WITHDRAW_INVALID_ADDRESS, f"{address!r} is not a {net.network} address"
            )
        if not amount > 0 or amount < net.min_amount:
            raise SimReject(
                RejectReason.WITHDRAW_BELOW_MINIMUM, f"{asset} on {net.network}: minimum {net.min_amount:g}"
            )
        return net

    def create(
        self, asset: str, amount: float, address: str, net: SimNetwork, timestamp_ms: int
    ) -> WithdrawalResponse:
        wid = str(self._next_id)
        self._next_id += 1
        self._started[wid] = time.monotonic()
        return WithdrawalResponse(
            withdrawal_id=wid,
            asset=asset.upper(),
            amount=amount,
            address=address,
            network=net.network,
            status=WithdrawalStatus.PENDING,
            fee=net.fee,
            timestamp=timestamp_ms,
        )

    def refresh(self, record: WithdrawalResponse) -> WithdrawalResponse:
        """Move the record's status along with elapsed time (in place); returns it."""
        if record.status.is_done:
            return record
        started = self._started.get(record.withdrawal_id)
        if started is None:
            return record
        elapsed = time.monotonic() - started
        if elapsed >= self.delay_s:
            record.status = WithdrawalStatus.DONE
            record.tx_id = f"0xsim{int(record.withdrawal_id):060x}"
            del self._started[record.withdrawal_id]
        elif elapsed >= self.delay_s / 2:
            record.status = WithdrawalStatus.PROCESSING
        return record

    def cancel(self, record: WithdrawalResponse) -> bool:
        """Cancel a still-PENDING withdrawal; True if it was canceled (the caller refunds)."""
        self.refresh(record)
        if record.status is not WithdrawalStatus.PENDING:
            return False
        record.status = WithdrawalStatus.CANCELED
        self._started.pop(record.withdrawal_id, None)
        return True
