"""Skipped ranges are queued and written in batches, with the values, peak and equity that
writing each range at once gives: in any order of marks and ranges, overlaps included, with
several symbols and with NaN closes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.marks import FLUSH_AT

N = 40
SYMBOLS = ("AAA", "BBB")


class _Reference:
    """Writes every range at once: the ledger's marking before ranges were queued."""

    def __init__(self, closes: dict[str, np.ndarray]) -> None:
        self.closes = closes
        self.curve = np.full(N, np.nan)
        self.equity = self.peak = 0.0

    def range(self, start: int, stop: int, cash: float, held: dict[str, float]) -> None:
        segment = self.curve[start:stop]
        segment.fill(cash)
        if not held:
            self.equity, self.peak = cash, max(self.peak, cash)
            return
        for symbol, units in held.items():
            segment += units * self.closes[symbol][start:stop]
        self.equity = float(segment[-1])
        peak = float(segment.max())
        if peak > self.peak:
            self.peak = peak

    def mark(self, index: int, cash: float, held: dict[str, float]) -> None:
        equity = cash
        for symbol, units in held.items():
            equity += units * self.closes[symbol][index]
        self.curve[index] = self.equity = equity
        if equity > self.peak:
            self.peak = equity


_prices = st.floats(1.0, 500.0) | st.floats(1.0, 500.0) | st.just(float("nan"))
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("hold"), st.sampled_from(SYMBOLS), st.sampled_from([0.0, 3.0, -2.5])),
        st.tuples(st.just("cash"), st.floats(-1e3, 1e3), st.just(0)),
        st.tuples(st.just("mark"), st.integers(0, N - 1), st.just(0)),
        st.tuples(st.just("range"), st.integers(0, N - 1), st.integers(1, 12)),
        st.tuples(st.just("read"), st.just(""), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_prices, min_size=N, max_size=N), st.lists(_prices, min_size=N, max_size=N), _ops)
def test_queued_ranges_mark_as_ranges_written_at_once(
    a: list[float], b: list[float], ops: list[tuple[str, Any, Any]]
) -> None:
    closes = {"AAA": np.array(a), "BBB": np.array(b)}
    ledger = Ledger(Decimal(0), n_bars=N)
    ledger.attach_prices({s: c.data for s, c in closes.items()})
    ref = _Reference(closes)
    ledger._cash_f = ref.peak = ledger._peak = 0.0
    held: dict[str, float] = {}
    for op, x, y in ops:
        if op == "hold":
            held.pop(x, None)
            if y:
                held[x] = y
            ledger._held = dict(held)
        elif op == "cash":
            ledger._cash_f = x
        elif op == "mark":
            ledger.mark(x)
            ref.mark(x, ledger._cash_f, held)
        elif op == "range":
            ledger.mark_range(x, min(N, x + y))
            ref.range(x, min(N, x + y), ledger._cash_f, held)
        else:
            assert ledger.peak_equity() == ref.peak
        assert ledger.equity() == ref.equity or (np.isnan(ref.equity) and np.isnan(ledger.equity()))
    assert ledger.peak_equity() == ref.peak
    assert ledger.equity_curve.tobytes() == ref.curve.tobytes()


def test_the_queue_is_written_when_it_is_full_and_when_the_curve_is_read() -> None:
    n = 3 * FLUSH_AT
    closes = np.linspace(100.0, 200.0, n)
    ledger = Ledger(Decimal(1000), n_bars=n)
    ledger.attach_prices({"AAA": closes.data})
    ledger._held = {"AAA": 2.0}
    for start in range(0, n - 1, 2):
        ledger.mark_range(start, start + 1)
    assert not np.isnan(ledger._curve[: 2 * (FLUSH_AT - 1) + 1 : 2]).any()  # written when full
    assert np.isnan(ledger._curve[-2])  # still queued
    curve = ledger.equity_curve
    assert list(curve[::2]) == list(1000.0 + 2.0 * closes[::2])
    assert np.isnan(curve[1::2]).all()
    assert ledger.peak_equity() == 1000.0 + 2.0 * closes[-2]
    ledger.equity_curve = np.zeros(n)
    assert not ledger.equity_curve.any()


def test_a_queued_range_with_a_nan_close_leaves_the_others_peak() -> None:
    closes = np.array([100.0, float("nan"), 100.0, 500.0, 100.0])
    ledger = Ledger(Decimal(0), n_bars=5)
    ledger.attach_prices({"AAA": closes.data})
    ledger._held = {"AAA": 1.0}
    ledger.mark_range(0, 2)
    ledger.mark_range(2, 5)
    assert ledger.peak_equity() == 500.0
