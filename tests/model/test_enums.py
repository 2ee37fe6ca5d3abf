import pytest

from cexarb.model.enums import OrderStatus, Side, WithdrawalStatus

DONE = {
    OrderStatus.FILLED,
    OrderStatus.CANCELED,
    OrderStatus.PARTIALLY_CANCELED,
    OrderStatus.EXPIRED,
    OrderStatus.REJECTED,
}


@pytest.mark.parametrize("status", list(OrderStatus))
def test_order_status_is_done_only_for_final_states(status):
    assert status.is_done is (status in DONE)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_final_states_outrank_every_open_state(status):
    top = max(s.rank for s in OrderStatus)
    assert (status.rank == top) is status.is_done


def test_open_lifecycle_ranks_increase():
    path = [OrderStatus.UNKNOWN, OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED]
    assert [s.rank for s in path] == sorted({s.rank for s in path})


def test_withdrawal_status_is_done():
    assert {s for s in WithdrawalStatus if s.is_done} == {
        WithdrawalStatus.DONE,
        WithdrawalStatus.FAILED,
        WithdrawalStatus.CANCELED,
    }


def test_side_helpers():
    assert Side.BUY.opposite is Side.SELL and Side.SELL.opposite is Side.BUY
    assert Side.BUY.sign == 1 and Side.SELL.sign == -1
