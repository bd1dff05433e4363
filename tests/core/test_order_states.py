"""The order state machine of DESIGN.md §3.5: the one table, checked pair by pair."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.core.enums import OrderStatus
from simpletrader.core.errors import IllegalTransitionError, SimpleTraderError
from simpletrader.core.order_states import (
    ORDER_TRANSITIONS,
    TERMINAL_ORDER_STATUSES,
    WORKING_ORDER_STATUSES,
    check_order_transition,
)

S = OrderStatus
# Written out from DESIGN.md §3.5, not read from the module under test.
DESIGN_MOVES = {
    S.PENDING: {S.OPEN, S.REJECTED, S.CANCELLED},
    S.OPEN: {S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.REJECTED},
    S.PARTIALLY_FILLED: {S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.REJECTED},
    S.FILLED: set(),
    S.CANCELLED: set(),
    S.EXPIRED: set(),
    S.REJECTED: set(),
}
LEGAL = sorted((a, b) for a, moves in DESIGN_MOVES.items() for b in moves)
ILLEGAL = sorted(set(itertools.product(OrderStatus, repeat=2)) - set(LEGAL))


def test_table_is_the_design_table() -> None:
    assert {k: set(v) for k, v in ORDER_TRANSITIONS.items()} == DESIGN_MOVES


def test_every_status_has_a_row() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)


def test_terminal_and_working_statuses_partition_the_statuses() -> None:
    assert {S.FILLED, S.CANCELLED, S.EXPIRED, S.REJECTED} == TERMINAL_ORDER_STATUSES
    assert {S.PENDING, S.OPEN, S.PARTIALLY_FILLED} == WORKING_ORDER_STATUSES
    assert set(OrderStatus) == TERMINAL_ORDER_STATUSES | WORKING_ORDER_STATUSES
    assert not TERMINAL_ORDER_STATUSES & WORKING_ORDER_STATUSES


@pytest.mark.parametrize(("current", "new"), LEGAL, ids=str)
def test_legal_move_passes(current: OrderStatus, new: OrderStatus) -> None:
    check_order_transition(current, new)


@pytest.mark.parametrize(("current", "new"), ILLEGAL, ids=str)
def test_illegal_move_raises_naming_both_states(current: OrderStatus, new: OrderStatus) -> None:
    with pytest.raises(IllegalTransitionError, match=f"illegal status move {current} -> {new};"):
        check_order_transition(current, new)


def test_all_49_pairs_are_classified() -> None:
    assert len(LEGAL) == 13
    assert len(LEGAL) + len(ILLEGAL) == 49


@pytest.mark.parametrize("terminal", sorted(DESIGN_MOVES[S.OPEN] - {S.PARTIALLY_FILLED}))
def test_error_from_a_terminal_state_says_none_are_allowed(terminal: OrderStatus) -> None:
    with pytest.raises(IllegalTransitionError, match=r"allowed from \S+: none \(terminal\)"):
        check_order_transition(terminal, S.OPEN)


def test_error_lists_the_allowed_moves_and_the_order() -> None:
    with pytest.raises(
        IllegalTransitionError,
        match=r"^order ORD_x: illegal status move PENDING -> FILLED; "
        r"allowed from PENDING: CANCELLED, OPEN, REJECTED$",
    ):
        check_order_transition(S.PENDING, S.FILLED, "ORD_x")


def test_illegal_transition_error_is_a_simpletrader_error() -> None:
    assert issubclass(IllegalTransitionError, SimpleTraderError)


@given(st.lists(st.sampled_from(OrderStatus), max_size=12))
def test_a_walk_of_legal_moves_from_pending_never_leaves_a_terminal_state(
    proposals: list[OrderStatus],
) -> None:
    status = S.PENDING
    for proposal in proposals:
        if proposal in DESIGN_MOVES[status]:
            check_order_transition(status, proposal)
            status = proposal
        else:
            with pytest.raises(IllegalTransitionError):
                check_order_transition(status, proposal)
    if status in TERMINAL_ORDER_STATUSES:
        assert not ORDER_TRANSITIONS[status]
