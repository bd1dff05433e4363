"""Walk-forward: windows, the choice on each training window, out-of-sample runs, stitching."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import EXAMPLE, FAST, run_alone

from simpletrader.core.errors import ConfigError
from simpletrader.sweep.walkforward import (
    WalkForwardResult,
    Window,
    parse_walk_forward,
    split_windows,
    walk_forward,
)

DAY_NS = 86_400 * 1_000_000_000


def test_bar_windows_roll_by_the_test_length_and_the_last_ends_with_the_data() -> None:
    stamps = np.arange(22, dtype=np.int64) * DAY_NS
    assert split_windows(stamps, 8, 4) == [
        Window(0, 0, 8, 12),
        Window(1, 4, 12, 16),
        Window(2, 8, 16, 20),
        Window(3, 12, 20, 22),
    ]


def test_calendar_windows_follow_the_dates() -> None:
    days = pd.date_range("2020-01-01", "2021-12-31", freq="D", tz="UTC").as_unit("ns").asi8
    train, test = parse_walk_forward("1y:6m")
    windows = split_windows(days, train, test, 86_400)
    starts = [pd.Timestamp(days[w.test_start], tz="UTC").date().isoformat() for w in windows]
    assert starts == ["2021-01-01", "2021-07-01"]
    assert windows[-1].test_end == len(days)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2y", "expected TRAIN:TEST"),
        ("2y:100", "both lengths in bars"),
        ("2q:1y", "not understood"),
        ("0:10", "not understood"),
    ],
)
def test_bad_walk_forward_lengths_say_what_is_expected(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_walk_forward(text)


@pytest.fixture(scope="module")
def goog() -> WalkForwardResult:
    return walk_forward(EXAMPLE, {FAST: [5, 10, 20]}, train="2y", test="1y", workers=1)


def test_walk_forward_on_goog_tiles_the_data_after_the_first_training_window(
    goog: WalkForwardResult,
) -> None:
    windows = goog.windows
    assert list(windows["window"]) == list(range(7))
    assert windows["test_start"].iloc[0].startswith("2006-08-21")
    assert windows["test_end"].iloc[-1].startswith("2013-03-01")
    assert windows["error"].isna().all()
    assert len(goog.train) == 7 * 3


def test_each_window_keeps_the_best_training_point(goog: WalkForwardResult) -> None:
    for row in goog.windows.to_dict("records"):
        trained = goog.train[goog.train["window"] == row["window"]]
        best = trained.sort_values(["sharpe", "run"], ascending=[False, True]).iloc[0]
        assert row[FAST] == best[FAST]
        assert row["train_sharpe"] == best["sharpe"]


def test_out_of_sample_runs_are_ordinary_backtests_of_the_test_period(
    goog: WalkForwardResult,
) -> None:
    rows = goog.windows.to_dict("records")
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        end = following["test_start"] if following is not None else None
        alone = run_alone({FAST: int(row[FAST])}, start=row["test_start"], end=end)
        assert row["run_hash"] == alone


def test_stitched_summary_chains_the_test_windows(goog: WalkForwardResult) -> None:
    growth = math.prod(e / 100_000 for e in goog.windows["final_equity"])
    oos = goog.oos.iloc[0]
    assert oos["windows"] == 7
    assert oos["failed_windows"] == 0
    assert math.isclose(oos["final_equity"], 100_000 * growth, abs_tol=0.05)
    assert oos["trades"] == goog.windows["trades"].sum()
    assert oos["max_drawdown"] <= goog.windows["max_drawdown"].max()


def test_walk_forward_refuses_to_sweep_the_data() -> None:
    with pytest.raises(ConfigError, match=r"'data\.start' cannot be swept"):
        walk_forward(EXAMPLE, {"data.start": ["2010-01-01"]}, train=500, test=100, workers=1)


def test_walk_forward_longer_than_the_data_says_so() -> None:
    with pytest.raises(ConfigError, match=r"has 2148 bars .* too few"):
        walk_forward(EXAMPLE, {FAST: [5]}, train="10y", test="1y", workers=1)
