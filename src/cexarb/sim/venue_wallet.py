"""A venue's side of the chain: withdrawals out of its accounts, deposit addresses and deposits in.

`SimVenue` exposes these methods as its own (`venue.withdraw(api_key, ...)`, ...).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from cexarb.model.trading import WithdrawalResponse
from cexarb.sim.accounts import SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.events import WalletEvent
from cexarb.sim.transfers import AddressOwner, Deposit, TransferNetwork, chain_of, make_address
from cexarb.sim.venue_events import EventQueue
from cexarb.sim.withdrawals import SimNetwork, WithdrawalDesk

_copy = msgspec.structs.replace


class VenueWallet:
    """Moves assets between a venue's accounts and the chain, keeping the venue's
    conservation books (`deposited`, `withdrawn`) and reporting balance changes."""

    def __init__(
        self,
        venue_key: str,
        account: Callable[[str], SimAccountState],
        clock: SimClock,
        events: EventQueue,
        desk: WithdrawalDesk,
        deposited: dict[str, float],
        withdrawn: dict[str, float],
    ) -> None:
        self.venue_key = venue_key
        self.account = account  # by API key; raises KeyError for an unknown one
        self.clock = clock
        self.events = events
        self.desk = desk
        self.deposited = deposited
        self.withdrawn = withdrawn
        # The chain to the other simulated venues (attached by the harness): withdrawals to
        # their deposit addresses arrive there.
        self.transfer_network: TransferNetwork | None = None
        self._addresses: dict[tuple[str, str, str], str] = {}
        self._next_deposit_id = 7_000_001

    def withdraw(
        self,
        api_key: str,
        asset: str,
        amount: float,
        address: str,
        network: str,
        memo: str | None = None,
        client_id: str | None = None,
    ) -> WithdrawalResponse:
        """Debit the account and send `amount` to `address` (raises SimReject when invalid)."""
        account = self.account(api_key)
        net = self.desk.validate(asset, amount, address, network)
        asset = asset.upper()
        bal = account.balance(asset)
        if amount > bal.available + 1e-12:
            raise SimReject(
                RejectReason.INSUFFICIENT_BALANCE,
                f"{asset}: withdraw {amount:g}, available {bal.available:g}",
            )
        with self.events:
            account.credit(asset, -amount)
            self.withdrawn[asset] = self.withdrawn.get(asset, 0.0) + amount
            if not account.internal:
                self.events.pending.append(WalletEvent(account.api_key, asset, "withdraw"))
            record = self.desk.create(asset, amount, address, net, self.clock.now_ms())
            account.withdrawals.append(record)
            self.events.touch_balance(account, asset)
        if self.transfer_network is not None:
            self.transfer_network.on_withdrawal(self.venue_key, _copy(record), self.desk.delay_s)
        return _copy(record)

    def withdrawals(self, api_key: str, asset: str | None = None) -> list[WithdrawalResponse]:
        """The account's withdrawals (of `asset`), statuses as of now."""
        account = self.account(api_key)
        return [
            _copy(self.desk.refresh(w))
            for w in account.withdrawals
            if asset is None or w.asset == asset.upper()
        ]

    def cancel_withdrawal(self, api_key: str, withdrawal_id: str) -> WithdrawalResponse:
        """Cancel a withdrawal still PENDING and refund it; otherwise return it unchanged."""
        account = self.account(api_key)
        record = next((w for w in account.withdrawals if w.withdrawal_id == withdrawal_id), None)
        if record is None:
            raise SimReject(RejectReason.ORDER_NOT_FOUND, f"no withdrawal {withdrawal_id!r}")
        if self.desk.cancel(record):
            with self.events:
                account.credit(record.asset, record.amount)
                self.withdrawn[record.asset] -= record.amount
                self.events.touch_balance(account, record.asset)
        return _copy(record)

    def network_config(self, asset: str) -> list[SimNetwork]:
        """The networks `asset` withdraws on, with their fees and minimums."""
        return self.desk.network_config(asset)

    def deposit_networks(self, asset: str) -> list[SimNetwork]:
        """The networks `asset` can be deposited on here (the ones it withdraws on)."""
        return self.desk.network_config(asset)

    def deposit_address(self, api_key: str, asset: str, network: str) -> str:
        """The account's address for `asset` on `network` (stable; registered with the chain)."""
        account = self.account(api_key)
        asset = asset.upper()
        net = next((n for n in self.deposit_networks(asset) if n.network.upper() == network.upper()), None)
        if net is None:
            known = ", ".join(n.network for n in self.deposit_networks(asset)) or "none"
            raise SimReject(
                RejectReason.WITHDRAW_INVALID_NETWORK,
                f"{asset} cannot be deposited on {network!r} here; networks: {known}",
            )
        key = (account.api_key, asset, net.network)
        address = self._addresses.get(key)
        if address is None:
            chain = chain_of(net.network)
            address = make_address(chain, f"{self.venue_key}|{account.user_id}|{asset}|{chain}")
            self._addresses[key] = address
            if self.transfer_network is not None:
                self.transfer_network.register(
                    address, AddressOwner(self.venue_key, account.api_key, asset, chain, net.network)
                )
        return address

    def begin_deposit(
        self, api_key: str, asset: str, amount: float, network: str, address: str, tx_id: str
    ) -> Deposit:
        """A deposit seen on chain, not yet confirmed (nothing credited yet)."""
        account = self.account(api_key)
        deposit = Deposit(
            str(self._next_deposit_id), asset, amount, network, address, tx_id, self.clock.now_ms()
        )
        self._next_deposit_id += 1
        account.deposits.append(deposit)
        return deposit

    def complete_deposit(self, api_key: str, deposit_id: str) -> Deposit:
        """Confirmed: credit the deposit to the account's available balance."""
        account = self.account(api_key)
        deposit = next(d for d in account.deposits if d.deposit_id == deposit_id)
        if deposit.done:
            return deposit
        with self.events:
            deposit.done = True
            deposit.confirmations = 12
            account.credit(deposit.asset, deposit.amount)
            self.deposited[deposit.asset] = self.deposited.get(deposit.asset, 0.0) + deposit.amount
            self.events.pending.append(WalletEvent(account.api_key, deposit.asset, "deposit"))
            self.events.touch_balance(account, deposit.asset)
        return deposit

    def deposits(self, api_key: str, asset: str | None = None) -> list[Deposit]:
        """The account's deposits (of `asset`), oldest first."""
        return [d for d in self.account(api_key).deposits if asset is None or d.asset == asset.upper()]
