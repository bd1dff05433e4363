"""Blueprint data options the engine applies: timeframe (resampling) and warm-up before start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simpletrader.backtest.engine import load_market_data
from simpletrader.config.loader import load_blueprint_text
from simpletrader.core.errors import DataError
from simpletrader.data import Bars, load_bars, resample

DAYS = ("2017-06-01", "2017-06-02")

BLUEPRINT = """
name: options
data:
  symbols: [{{symbol: EURUSD, source: EURUSD_1h}}]
{extra}
workforce:
  strategy_planner: {{plugin: signal_to_directive}}
"""


def _market(extra: str) -> dict[str, Bars]:
    blueprint, _ = load_blueprint_text(BLUEPRINT.format(extra=extra))
    bars, _, _ = load_market_data(blueprint)
    return dict(bars)


def test_timeframe_resamples_the_files_to_the_blueprint_bar() -> None:
    bars = _market("  timeframe: 1d")["EURUSD"]
    expected = resample(load_bars("EURUSD_1h"), "1d")
    assert bars.timeframe_seconds == 86_400
    assert len(bars) == len(expected)
    assert bars.close.tolist() == expected.close.tolist()


def test_a_finer_timeframe_than_the_file_is_refused() -> None:
    with pytest.raises(DataError, match="finer than the source"):
        _market("  timeframe: 5m")


def test_warmup_bars_come_from_before_start() -> None:
    bars = _market('  timeframe: 1d\n  start: "2017-06-01"\n  warmup_bars: 10')["EURUSD"]
    first_trading = bars.datetime_at(10)
    assert first_trading == datetime(2017, 6, 1, tzinfo=UTC)
    assert bars.datetime_at(0) < first_trading


def test_a_date_end_keeps_that_whole_day_and_start_is_the_first_bar() -> None:
    bars = _market('  start: "2017-06-01"\n  end: "2017-06-02"')["EURUSD"]
    assert bars.datetime_at(0) == datetime(2017, 6, 1, tzinfo=UTC)
    whole = load_bars("EURUSD_1h")
    on_those_days = [
        k for k in range(len(whole)) if whole.datetime_at(k).date().isoformat() in DAYS
    ]
    assert len(bars) == len(on_those_days)
    assert bars.datetime_at(len(bars) - 1).date().isoformat() == "2017-06-02"


def test_an_end_with_a_time_keeps_the_bar_at_that_time() -> None:
    bars = _market('  start: "2017-06-01"\n  end: "2017-06-01T05:00:00Z"')["EURUSD"]
    assert bars.datetime_at(len(bars) - 1) == datetime(2017, 6, 1, 5, tzinfo=UTC)
