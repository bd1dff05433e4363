"""The Python API as a quant uses it in a notebook, cell by cell; and docs/api.md's example."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import simpletrader

DOCS_API = Path(__file__).parents[2] / "docs" / "api.md"


def test_a_notebook_session(tmp_path: Path) -> None:
    # Cell 1: run the bundled example and look at the headline.
    result = simpletrader.backtest()
    assert "sma_cross_goog" in repr(result)
    assert result.n_bars == 2148

    # Cell 2: the metrics are a plain dict of floats (None where undefined).
    metrics = result.metrics
    assert metrics["trades"] > 10
    assert metrics["max_drawdown"] < 0 < metrics["sharpe"]
    assert 250 < metrics["periods_per_year"] < 254

    # Cell 3: trades are a DataFrame; the last position is still open and marked to market.
    trades = result.trades
    assert isinstance(trades, pd.DataFrame)
    assert trades["status"].iloc[-1] == "OPEN"
    closed = trades[trades["status"] == "CLOSED"]
    assert len(closed) == metrics["trades"]
    winners = closed[closed["pnl"] > 0]
    assert len(winners) / len(closed) == pytest.approx(metrics["win_rate"])

    # Cell 4: the equity curve resamples like any time series.
    yearly = result.equity["equity"].resample("YE").last()
    assert yearly.index[0].year == 2004
    assert yearly.iloc[-1] == pytest.approx(result.final_equity)

    # Cell 5: orders and fills join on order_id.
    joined = result.fills.merge(result.orders, on="order_id", suffixes=("", "_order"))
    assert (joined["status"] == "FILLED").all()

    # Cell 6: try a variation: a slower fast average, with fees.
    slower = simpletrader.backtest(
        **{"workforce.context_worker.fast.params.period": 20}, execution__costs__fee_bps=5
    )
    assert slower.metrics["trades"] != metrics["trades"]
    assert slower.metrics["fees"] > 0

    # Cell 7: share it.
    page = result.report(tmp_path / "report.html")
    assert page.stat().st_size > 1_000_000


def test_the_example_in_docs_api_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOCS_API.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "docs/api.md has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(DOCS_API), "exec"), namespace)
    assert (tmp_path / "report.html").exists()
    assert isinstance(namespace["result"], simpletrader.Result)
