"""The bundled example against an independent, straightforward loop with the same rules."""

from __future__ import annotations

import gzip
import math
from decimal import Decimal
from pathlib import Path

import pytest

from simpletrader.backtest.engine import run_backtest
from simpletrader.backtest.summary import closed_trades, summary
from simpletrader.config.loader import load_blueprint
from simpletrader.data.samples import sample_path

EXAMPLE = Path(__file__).parents[2] / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"


def _reference_sma_cross(path: Path, fast_n: int, slow_n: int, cash: float) -> tuple[int, float]:
    """SMA cross, long only, all-in at the next open, floored to whole shares, no costs."""
    with gzip.open(path, "rt") as handle:
        rows = [line.strip().split(",") for line in handle.readlines()[1:]]
    opens = [float(r[1]) for r in rows]
    closes = [float(r[4]) for r in rows]

    def sma(n: int, i: int) -> float:
        return sum(closes[i - n + 1 : i + 1]) / n if i >= n - 1 else math.nan

    shares, pending, trades = 0, None, 0
    for i in range(len(closes)):
        if pending == "buy":
            shares = int(cash // opens[i])
            cash -= shares * opens[i]
        elif pending == "sell":
            cash += shares * opens[i]
            shares, trades = 0, trades + 1
        pending = None
        if i == 0:
            continue
        f0, s0, f1, s1 = sma(fast_n, i), sma(slow_n, i), sma(fast_n, i - 1), sma(slow_n, i - 1)
        if f0 > s0 and f1 <= s1 and shares == 0:
            pending = "buy"
        elif f0 < s0 and f1 >= s1 and shares > 0:
            pending = "sell"
    return trades, cash + shares * closes[-1]


def test_example_matches_an_independent_loop() -> None:
    run = run_backtest(load_blueprint(EXAMPLE))
    trades, equity = _reference_sma_cross(sample_path("GOOG_1d"), 10, 30, 100_000.0)
    assert len(closed_trades(run)) == trades
    assert run.final_equity == pytest.approx(equity, abs=0.01)
    assert trades > 10


def test_identical_runs_have_identical_hashes_and_ids() -> None:
    first = run_backtest(load_blueprint(EXAMPLE))
    second = run_backtest(load_blueprint(EXAMPLE))
    assert first.run_hash == second.run_hash
    assert list(first.ledger.orders) == list(second.ledger.orders)
    assert first.run_id != second.run_id


def test_a_different_seed_changes_ids_but_not_trades() -> None:
    base = run_backtest(load_blueprint(EXAMPLE))
    other = run_backtest(load_blueprint(EXAMPLE), seed=7)
    assert other.run_hash != base.run_hash
    assert other.final_equity == base.final_equity


def test_every_fill_is_whole_shares_and_cash_never_negative() -> None:
    run = run_backtest(load_blueprint(EXAMPLE))
    assert all(f.quantity == f.quantity.to_integral_value() for f in run.ledger.fills)
    assert run.ledger.cash >= Decimal(0)
    result = summary(run)
    assert result["batches"]["INDEPENDENT"]["failed"] == 0
    assert result["orders"] == result["fills"]


def test_ledger_rebuilt_from_the_journal_is_identical() -> None:
    from simpletrader.ledger.ledger import Ledger

    run = run_backtest(load_blueprint(EXAMPLE))
    rebuilt = Ledger(run.ledger.starting_cash, {"GOOG": Decimal(1)})
    rebuilt.replay(run.journal.events())
    assert rebuilt.state_digest() == run.ledger.state_digest()
