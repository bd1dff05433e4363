"""``Result``: the tables, figures and JSON summary agree with the ledger and each other."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import simpletrader
from simpletrader.backtest.result import (
    BATCH_COLUMNS,
    FILL_COLUMNS,
    ORDER_COLUMNS,
    TRADE_COLUMNS,
    Result,
)
from simpletrader.backtest.summary import closed_trades
from simpletrader.data.samples import sample_path


@pytest.fixture(scope="module")
def result() -> Result:
    """The bundled example with fees, so P&L reconciliation covers costs too."""
    return simpletrader.backtest(execution__costs__fee_bps=10)


def test_trade_pnl_adds_up_to_the_change_in_equity(result: Result) -> None:
    assert result.trades["pnl"].sum() == pytest.approx(
        result.final_equity - result.starting_cash, abs=1e-6
    )
    assert result.trades["fees"].sum() == pytest.approx(result.metrics["fees"])
    assert result.fills["fee"].sum() == pytest.approx(result.metrics["fees"])
    assert result.metrics["fees"] > 0


def test_closed_trades_are_counted_once_and_the_open_one_is_marked_to_market(
    result: Result,
) -> None:
    trades = result.trades
    closed = trades[trades["status"] == "CLOSED"]
    still_open = trades[trades["status"] == "OPEN"]
    assert len(closed) == result.metrics["trades"] == len(closed_trades(result.run))
    assert result.summary()["trades"] == len(closed)
    assert len(still_open) == len(result.open_positions) == 1
    row = still_open.iloc[0]
    last = float(result.run.bars["GOOG"].close[-1])
    assert pd.isna(row["exit_time"])
    assert row["unrealized_pnl"] == pytest.approx((last - row["entry_price"]) * row["quantity"])
    assert result.open_positions[0]["mark_price"] == last


def test_excursions_bracket_every_trade_return(result: Result) -> None:
    closed = result.trades[result.trades["status"] == "CLOSED"]
    gross = closed["exit_price"] / closed["entry_price"] - 1
    assert (closed["mae"] <= 0).all()
    assert (closed["mfe"] >= 0).all()
    assert (closed["mae"] <= gross + 1e-12).all()
    assert (gross <= closed["mfe"] + 1e-12).all()


def test_exposure_matches_the_position_held_at_each_close(result: Result) -> None:
    ts = np.asarray(result.run.bars["GOOG"].timestamps)
    closes = ts + 86_400 * 1_000_000_000
    fills = result.fills
    signed = np.where(fills["side"] == "BUY", fills["quantity"], -fills["quantity"])
    executed = fills["executed_at"].dt.tz_convert(None).to_numpy()
    executed = executed.astype("datetime64[ns]").astype(np.int64)
    # A fill at the very instant a bar closes (the next bar's open) is not held at that close.
    held = np.array([signed[executed < c].sum() for c in closes])
    assert result.metrics["exposure"] == pytest.approx(np.count_nonzero(held) / len(ts))


def test_tables_have_their_documented_columns_and_one_row_per_record(result: Result) -> None:
    ledger = result.run.ledger
    assert tuple(result.trades.columns) == TRADE_COLUMNS
    assert tuple(result.orders.columns) == ORDER_COLUMNS
    assert tuple(result.fills.columns) == FILL_COLUMNS
    assert tuple(result.batches.columns) == BATCH_COLUMNS
    assert len(result.orders) == len(ledger.orders)
    assert len(result.fills) == len(ledger.fills)
    assert str(result.orders["created_at"].dt.tz) == "UTC"


def test_equity_table_ends_at_the_final_equity(result: Result) -> None:
    equity = result.equity
    assert len(equity) == result.n_bars
    assert equity["equity"].iloc[-1] == result.final_equity
    assert (equity["drawdown"] <= 0).all()
    assert equity["drawdown"].min() == pytest.approx(result.metrics["max_drawdown"])
    assert equity.index[0] == result.start


def test_batch_outcomes_count_the_batch_table(result: Result) -> None:
    counts = result.batches.groupby(["mode", "status"]).size()
    outcomes = result.batch_outcomes
    for mode, row in outcomes.items():
        for outcome, count in row.items():
            assert counts.get((mode, outcome.upper()), 0) == count
    assert outcomes["INDEPENDENT"]["completed"] == len(result.batches)


def test_summary_is_strict_json_with_the_documented_keys(result: Result) -> None:
    summary = result.summary()
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary
    for key in (
        "run_hash",
        "start",
        "end",
        "bars",
        "final_equity",
        "metrics",
        "trades",
        "orders",
        "fills",
        "open_positions",
        "batches",
        "manifest",
    ):
        assert key in summary, key
    assert set(summary["batches"]) == {"INDEPENDENT", "COORDINATED", "SEQUENTIAL"}


def test_manifest_hashes_the_data_file_and_the_blueprint_content(result: Result) -> None:
    manifest = result.manifest
    digest = hashlib.sha256(sample_path("GOOG_1d").read_bytes()).hexdigest()
    assert manifest["data"]["GOOG"] == {"source": "GOOG_1d", "sha256": digest}
    assert manifest["seed"] == 42
    assert len(manifest["blueprint_sha256"]) == 64
    same = simpletrader.backtest(result.run.blueprint)
    assert same.manifest["blueprint_sha256"] == manifest["blueprint_sha256"]
    other = simpletrader.backtest()
    assert other.manifest["blueprint_sha256"] != manifest["blueprint_sha256"]


def test_repr_and_notebook_html_name_the_run(result: Result) -> None:
    assert "sma_cross_goog" in repr(result)
    assert "Sharpe ratio" in result._repr_html_()


PAIR = """
name: pair_spx_nasdaq
seed: 3
data:
  symbols:
    - {symbol: SPX, source: SPX_1d}
    - {symbol: NASDAQ, source: NASDAQ_1d}
workforce:
  context_worker:
    - {plugin: spread_zscore, name: z, params: {pair: [SPX, NASDAQ], window: 20}}
  signal_detector:
    - {plugin: zscore_bands, params: {zscore: z, entry: 2.0, exit: 0.5}}
  strategy_planner: {plugin: pair_trade, params: {pair: [SPX, NASDAQ]}}
  size_planner:
    - {plugin: equity_fraction, params: {fraction: 0.4}}
execution:
  costs: {fee_bps: 2, slippage_bps: 1}
  margin: {requirement: 0.5}
  faults: {reject_probability: 0.1}
  policy: {mode: COORDINATED, unwind_filled_legs: true, timeout: 2 bars}
"""


@pytest.fixture(scope="module")
def pair() -> Result:
    """Two symbols, shorts, coordinated batches that fail on injected rejects and unwind."""
    return simpletrader.backtest(PAIR)


def test_pair_trade_pnl_reconciles_through_failures_and_unwinds(pair: Result) -> None:
    assert pair.trades["pnl"].sum() == pytest.approx(
        pair.final_equity - pair.starting_cash, abs=1e-6
    )
    assert set(pair.trades["direction"]) == {"LONG", "SHORT"}


def test_failed_coordinated_batches_are_counted_with_their_reason(pair: Result) -> None:
    outcomes = pair.batch_outcomes["COORDINATED"]
    failed = pair.batches[pair.batches["status"] == "FAILED"]
    assert outcomes["failed"] == len(failed) > 0
    assert outcomes["completed"] > 0
    assert failed["reason"].str.contains("REJECT").all()
    assert failed["failed_command_id"].str.startswith("EXC_").all()
    assert pair.batch_outcomes["INDEPENDENT"] == dict.fromkeys(
        ("completed", "partial", "failed", "open"), 0
    )


def test_open_legs_of_both_signs_are_marked_to_their_own_last_close(pair: Result) -> None:
    still_open = pair.trades[pair.trades["status"] == "OPEN"]
    for row in still_open.to_dict("records"):
        last = float(pair.run.bars[row["symbol"]].close[-1])
        expected = (last - row["entry_price"]) * row["net_quantity"]
        assert row["unrealized_pnl"] == pytest.approx(expected)
    shorts = pair.trades[pair.trades["direction"] == "SHORT"]
    assert (shorts["mae"] <= 0).all()
    assert (shorts["mfe"] >= 0).all()


def test_pair_report_draws_one_price_chart_per_symbol_and_shows_failures(pair: Result) -> None:
    from simpletrader.backtest.report import render

    document = render(pair)
    assert 'id="price-0"' in document
    assert 'id="price-1"' in document
    assert "FAULT_INJECTED_REJECT" in document
