"""Walk-forward windows warm up on the bars before them, as a backtest does before its start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import EXAMPLE, FAST, backtest_alone, edited_blueprint_text

from simpletrader.backtest.result import Result
from simpletrader.config.loader import parse_blueprint
from simpletrader.sweep.walkforward import WalkForwardResult, walk_forward

# Longer than the first training window's history below (20 bars), by enough that a flow kept
# idle for all of it there would miss that window's first trade.
WARMUP = 100
CASH = 100_000.0
POINTS = [5, 10, 20]
# The example's slow SMA: without warm-up nothing can cross before this many bars of a window.
SLOW_PERIOD = 30


def _walk_forward(warmup: int, **kwargs: object) -> WalkForwardResult:
    blueprint = parse_blueprint(edited_blueprint_text({"data.warmup_bars": warmup}))
    return walk_forward(
        blueprint,
        {FAST: POINTS},
        train="2y",
        test="1y",
        workers=1,
        base_dir=EXAMPLE.parent,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def cold() -> WalkForwardResult:
    return _walk_forward(0)


@pytest.fixture(scope="module")
def warm() -> WalkForwardResult:
    return _walk_forward(WARMUP)


def _window_curves(result: WalkForwardResult) -> dict[int, np.ndarray]:
    """Each test window's own equity curve, from the starting cash (the stitched curve, undone)."""
    curves = {}
    level = CASH
    for window, bars in result.equity.groupby("window", sort=True):
        chained = bars["equity"].to_numpy()
        curves[int(window)] = chained / level * CASH
        level = float(chained[-1])
    return curves


def _first_moves(result: WalkForwardResult) -> list[int]:
    """Per test window, the first bar whose close finds the equity off the starting cash."""
    return [int(np.flatnonzero(c != CASH)[0]) for c in _window_curves(result).values()]


def test_warm_up_lets_a_test_window_trade_on_its_first_bars(
    cold: WalkForwardResult, warm: WalkForwardResult
) -> None:
    assert min(_first_moves(cold)) >= SLOW_PERIOD
    assert min(_first_moves(warm)) < SLOW_PERIOD
    assert list(warm.windows["test_start"]) == list(cold.windows["test_start"])


@pytest.mark.parametrize("warmup", [0, WARMUP])
def test_a_test_window_is_a_plain_backtest_of_its_dates_with_the_same_warm_up(
    warmup: int, cold: WalkForwardResult, warm: WalkForwardResult
) -> None:
    result = warm if warmup else cold
    curves = _window_curves(result)
    for row in result.windows.to_dict("records"):
        run = backtest_alone(
            {FAST: int(row[FAST]), "data.warmup_bars": warmup},
            start=row["test_start"],
            end=row["test_end"],
        )
        # Every test window has two years of training bars before it: a full warm-up.
        assert run.warmup == warmup
        assert row["run_hash"] == run.run_hash
        plain = Result(run)
        assert row["bars"] == plain.n_bars == len(plain.equity)
        assert plain.start == pd.Timestamp(row["test_start"])
        np.testing.assert_allclose(
            curves[row["window"]], plain.equity["equity"].to_numpy(), rtol=1e-12
        )
        for key in ("total_return", "sharpe", "max_drawdown", "trades"):
            assert row[key] == plain.metrics[key], key
        assert row["final_equity"] == round(plain.final_equity, 2)


def test_window_runs_count_and_chart_only_the_window_bars(warm: WalkForwardResult) -> None:
    run = backtest_alone({})
    stamps = pd.DatetimeIndex(pd.to_datetime(next(iter(run.bars.values())).timestamps, utc=True))

    def bars_between(first: str, last: str) -> int:
        return int(((stamps >= first) & (stamps <= last)).sum())

    windows = warm.windows.set_index("window")
    for window, trained in warm.train.groupby("window"):
        row = windows.loc[window]
        assert set(trained["bars"]) == {bars_between(row["train_start"], row["train_end"])}
    per_window = warm.equity.groupby("window").size()
    for window, row in windows.iterrows():
        expected = bars_between(row["test_start"], row["test_end"])
        assert row["bars"] == per_window[window] == expected
    tested = stamps[stamps >= windows["test_start"].iloc[0]]
    assert list(warm.equity["timestamp"]) == list(tested)
    assert warm.equity["equity"].iloc[-1] == pytest.approx(warm.oos["final_equity"].iloc[0])


def test_a_window_with_less_history_warms_up_on_the_bars_there_are() -> None:
    # 20 bars of GOOG_1d come before this start: the first training window can only have those.
    start = "2004-09-17"
    result = _walk_forward(WARMUP, start=start)
    first = result.windows.iloc[0]
    assert first["train_start"].startswith(start)
    trained = result.train[result.train["window"] == 0]
    for row in trained.to_dict("records"):
        period = {"start": first["train_start"], "end": first["train_end"]}
        # The plain backtest of the window's dates asks for more warm-up than there is, and
        # gets (and keeps flow-free) the 20 bars there are, as the window run does.
        alone = backtest_alone({FAST: int(row[FAST]), "data.warmup_bars": WARMUP}, **period)
        assert alone.warmup == 20
        assert row["run_hash"] == alone.run_hash
        assert row["bars"] == alone.n_bars
        # Same journal, same trades: none opened on the warm-up bars before the start.
        entries = Result(alone).trades["entry_time"]
        assert len(entries) > 0
        assert (entries >= pd.Timestamp(start, tz="UTC")).all()
