"""Skipping quiet bars changes nothing: same journal, same equity curve as running every bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.loader import load_blueprint, load_blueprint_text
from simpletrader.pipeline.flow import StrategyFlow

EXAMPLES = Path(__file__).parents[2] / "examples"


def _run(source: str, *, skip: bool, monkeypatch: pytest.MonkeyPatch) -> BacktestRun:
    if not skip:
        monkeypatch.setattr(StrategyFlow, "visit_bars", lambda self, n: None)
    if source.endswith(".yaml"):
        blueprint = load_blueprint(source)
        base = Path(source).parent
    else:
        blueprint, _ = load_blueprint_text(source)
        base = None
    run = run_backtest(blueprint, base_dir=base)
    monkeypatch.undo()
    return run


SHORTS_WITH_BORROW = """
name: shorts
data: {symbols: [{symbol: SPX, source: SPX_1d}]}
workforce:
  context_worker:
    - {plugin: sma, name: fast, params: {period: 5}}
    - {plugin: sma, name: slow, params: {period: 20}}
  signal_detector: [{plugin: ma_crossover, params: {fast: fast, slow: slow}}]
  strategy_planner: {plugin: signal_to_directive, params: {allow_short: true}}
  size_planner: [{plugin: equity_fraction, params: {fraction: 0.5}}]
execution:
  costs: {fee_bps: 2, borrow_bps_per_year: 300}
"""


@pytest.mark.parametrize("source", [str(EXAMPLES / "sma_cross_goog.yaml"), SHORTS_WITH_BORROW])
def test_skipping_quiet_bars_gives_the_same_run(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    every_bar = _run(source, skip=False, monkeypatch=monkeypatch)
    skipping = _run(source, skip=True, monkeypatch=monkeypatch)
    assert skipping.run_hash == every_bar.run_hash
    np.testing.assert_array_equal(skipping.ledger.equity_curve, every_bar.ledger.equity_curve)
    assert skipping.ledger.state_digest() == every_bar.ledger.state_digest()


def test_crossover_candidates_are_exactly_the_bars_it_fires_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured: list[np.ndarray] = []
    original = StrategyFlow.visit_bars

    def capture(self: StrategyFlow, n: int) -> np.ndarray | None:
        visits = original(self, n)
        assert visits is not None
        captured.append(visits)
        return visits

    monkeypatch.setattr(StrategyFlow, "visit_bars", capture)
    run = run_backtest(load_blueprint(EXAMPLES / "sma_cross_goog.yaml"))
    bars = run.bars["GOOG"]
    step = bars.timeframe_seconds
    assert step is not None
    close_times = {bars.datetime_at(int(k)).timestamp() + step for k in captured[0]}
    signal_times = {
        r["dto"]["timestamp"]
        for r in run.journal.records()
        if r["kind"] == "flow" and r["type"] == "Signal"
    }
    from datetime import datetime

    assert {datetime.fromisoformat(t).timestamp() for t in signal_times} == close_times
    assert len(close_times) > 10
