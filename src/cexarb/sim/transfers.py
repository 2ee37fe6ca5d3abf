"""Deposits, and the chain between simulated venues that turns a withdrawal into a deposit.

Each venue hands out deposit addresses per (account, asset, network) in the format of the
network's chain (MEXC's TRC20 and Gate's TRX are both Tron, ERC20 and ETH both Ethereum). A
withdrawal to an address another simulated venue handed out arrives there: once the source
venue reports it DONE (its withdrawal delay) the deposit appears as pending, and after the
chain's confirmation delay it is credited, less the withdrawal fee (MEXC and Gate both take
the fee out of the amount). An address nobody handed out, or one on another chain or for
another asset, never arrives: the transfer is recorded as lost with the reason, and logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cexarb.model.trading import WithdrawalResponse

if TYPE_CHECKING:
    from cexarb.sim.venue import SimVenue

log = logging.getLogger("cexarb.sim.transfers")

# Network names (MEXC netWork, Gate chain) -> the chain they move on.
CHAINS = {
    "TRC20": "TRON",
    "TRX": "TRON",
    "ERC20": "ETH",
    "ETH": "ETH",
    "BTC": "BTC",
    "SOL": "SOL",
}
# Seconds from a withdrawal leaving the source until the deposit is credited, per chain.
DEFAULT_CONFIRM_S = {"TRON": 1.0, "ETH": 2.0, "BTC": 3.0, "SOL": 1.0}

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _base58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_BASE58[r])
    return "".join(reversed(out)) or "1"


def chain_of(network: str) -> str:
    return CHAINS.get(network.upper(), network.upper())


def make_address(chain: str, seed: str) -> str:
    """A deterministic address in `chain`'s format (what the venues' address checks accept)."""
    h = hashlib.sha256(seed.encode()).digest()
    h2 = hashlib.sha256(h).digest()
    if chain == "ETH":
        return "0x" + h.hex()[:40]
    if chain == "TRON":
        return "T" + _base58(h + h2)[:33]
    if chain == "BTC":
        return "bc1q" + "".join(_BECH32[b % 32] for b in (h + h2)[:38])
    return _base58(h + h2)[:44]  # SOL and other base58 chains


@dataclass(slots=True)
class Deposit:
    """A deposit on the receiving venue: pending while the chain confirms, then done (credited)."""

    deposit_id: str
    asset: str
    amount: float
    network: str  # the receiving venue's name for the network
    address: str
    tx_id: str
    timestamp: int  # ms, when it showed up
    done: bool = False
    confirmations: int = 0


@dataclass(frozen=True, slots=True)
class AddressOwner:
    venue: str
    api_key: str
    asset: str
    chain: str
    network: str


@dataclass(slots=True)
class Transfer:
    """One withdrawal between simulated venues, as the chain sees it."""

    source: str
    withdrawal: WithdrawalResponse
    destination: AddressOwner | None
    status: str = "in_flight"  # in_flight, pending (seen on the destination), credited, lost
    reason: str = ""
    deposit_id: str = ""


@dataclass
class TransferNetwork:
    """The chains between the simulator's venues."""

    confirm_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CONFIRM_S))
    venues: dict[str, SimVenue] = field(default_factory=dict)
    addresses: dict[str, AddressOwner] = field(default_factory=dict)
    transfers: list[Transfer] = field(default_factory=list)

    def attach(self, venue: SimVenue) -> None:
        self.venues[venue.key] = venue
        venue.wallet.transfer_network = self

    def register(self, address: str, owner: AddressOwner) -> None:
        self.addresses[address] = owner

    @property
    def lost(self) -> list[Transfer]:
        return [t for t in self.transfers if t.status == "lost"]

    def on_withdrawal(self, source: str, record: WithdrawalResponse, delay_s: float) -> None:
        """A withdrawal left venue `source` (debited); schedule its arrival, or record it as lost."""
        owner = self.addresses.get(record.address)
        transfer = Transfer(source, record, owner)
        self.transfers.append(transfer)
        chain = chain_of(record.network)
        if owner is None:
            transfer.reason = f"address {record.address} belongs to no simulated venue"
        elif owner.chain != chain:
            transfer.reason = f"sent on {chain} to a {owner.chain} deposit address of {owner.venue}"
        elif owner.asset != record.asset:
            transfer.reason = f"sent {record.asset} to the {owner.asset} deposit address of {owner.venue}"
        if transfer.reason:
            transfer.status = "lost"
            log.warning(
                "sim transfer lost: %s withdrawal %s of %g %s: %s",
                source,
                record.withdrawal_id,
                record.amount,
                record.asset,
                transfer.reason,
            )
            return
        loop = asyncio.get_running_loop()
        confirm = self.confirm_s.get(chain, 1.0)
        loop.call_later(delay_s, self._arrive, transfer)
        loop.call_later(delay_s + confirm, self._credit, transfer)

    def _arrive(self, transfer: Transfer) -> None:
        owner = transfer.destination
        assert owner is not None
        w = transfer.withdrawal
        venue = self.venues[owner.venue]
        tx_id = w.tx_id or f"0xsim{int(w.withdrawal_id):060x}"
        deposit = venue.begin_deposit(
            owner.api_key, w.asset, round(w.amount - w.fee, 12), owner.network, w.address, tx_id
        )
        transfer.status = "pending"
        transfer.deposit_id = deposit.deposit_id

    def _credit(self, transfer: Transfer) -> None:
        owner = transfer.destination
        assert owner is not None
        self.venues[owner.venue].complete_deposit(owner.api_key, transfer.deposit_id)
        transfer.status = "credited"
