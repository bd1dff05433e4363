"""Built-in signal detectors fire once, on the bar their condition starts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from plugin_kit import at_bar, make_bars, make_ctx
from pydantic import ValidationError

from simpletrader.core.enums import SignalDirection
from simpletrader.data import load_bars
from simpletrader.dtos import Signal
from simpletrader.plugins.base import FlowContext, SignalDetector
from simpletrader.plugins.context import RelativeStrengthIndex, RsiParams
from simpletrader.plugins.signals import (
    Breakout,
    BreakoutParams,
    CrossoverParams,
    MovingAverageCrossover,
    RsiThreshold,
    RsiThresholdParams,
    ZScoreBands,
    ZScoreParams,
)


def _fires(detector: SignalDetector, ctx: FlowContext, n: int) -> list[tuple[int, str, str]]:
    """(bar, signal type, direction) of every signal over bars 0..n-1."""
    out = []
    for i in range(n):
        found = detector.detect(at_bar(ctx, i))
        signals: Sequence[Signal] = (
            [] if found is None else [found] if isinstance(found, Signal) else list(found)
        )
        out.extend((i, s.signal_type, s.direction.value) for s in signals)
    return out


def test_ma_crossover_fires_on_the_cross_bars_only() -> None:
    ctx = make_ctx(
        make_bars("X", [1] * 6),
        facts={"fast": [1, 2, 3, 3, 1, 1], "slow": [2, 2, 2, 2, 2, 2]},
    )
    detector = MovingAverageCrossover(CrossoverParams(fast="fast", slow="slow"))
    assert _fires(detector, ctx, 6) == [(2, "MA_CROSS_UP", "long"), (4, "MA_CROSS_DOWN", "short")]


def test_rsi_threshold_fires_when_rsi_leaves_a_zone() -> None:
    rsi = [50, 25, 20, 35, 60, 75, 80, 65, 50]
    ctx = make_ctx(make_bars("X", [1] * 9), facts={"rsi": rsi})
    detector = RsiThreshold(RsiThresholdParams(rsi="rsi"))
    assert _fires(detector, ctx, 9) == [(3, "RSI_OVERSOLD", "long"), (7, "RSI_OVERBOUGHT", "short")]


def test_rsi_threshold_can_fire_when_rsi_enters_a_zone() -> None:
    rsi = [50, 25, 20, 35, 60, 75, 80, 65, 50]
    ctx = make_ctx(make_bars("X", [1] * 9), facts={"rsi": rsi})
    detector = RsiThreshold(RsiThresholdParams(rsi="rsi", trigger="enter"))
    assert _fires(detector, ctx, 9) == [(1, "RSI_OVERSOLD", "long"), (5, "RSI_OVERBOUGHT", "short")]


def test_rsi_threshold_rejects_crossed_thresholds() -> None:
    with pytest.raises(ValidationError, match=r"lower 70\.0 must be below upper 30\.0"):
        RsiThresholdParams(rsi="rsi", lower=70, upper=30)


def test_breakout_fires_on_the_first_close_beyond_the_previous_channel() -> None:
    closes = [10, 10, 10, 12, 13, 10, 7, 6]
    upper = [np.nan, 11, 11, 11, 12, 13, 13, 13]
    lower = [np.nan, 9, 9, 9, 9, 9, 9, 7]
    ctx = make_ctx(make_bars("X", closes), facts={"ch.upper": upper, "ch.lower": lower})
    detector = Breakout(BreakoutParams(channel="ch"))
    assert _fires(detector, ctx, 8) == [(3, "BREAKOUT_UP", "long"), (6, "BREAKOUT_DOWN", "short")]


def test_zscore_bands_signal_entries_and_exits_of_both_sides() -> None:
    z = [np.nan, 0.0, -2.5, -1.0, -0.2, 2.4, 1.0, 0.3, -3.0]
    ctx = make_ctx(make_bars("A", [1] * 9), facts={"z": z})
    detector = ZScoreBands(ZScoreParams(zscore="z", entry=2.0, exit=0.5))
    assert _fires(detector, ctx, 9) == [
        (2, "SPREAD_LONG_ENTRY", "long"),
        (4, "SPREAD_LONG_EXIT", "short"),
        (5, "SPREAD_SHORT_ENTRY", "short"),
        (7, "SPREAD_SHORT_EXIT", "long"),
        (8, "SPREAD_LONG_ENTRY", "long"),
    ]


def test_zscore_bands_report_an_exit_and_an_entry_on_one_jump() -> None:
    ctx = make_ctx(make_bars("A", [1, 1]), facts={"z": [-2.5, 2.5]})
    detector = ZScoreBands(ZScoreParams(zscore="z"))
    assert _fires(detector, ctx, 2) == [
        (1, "SPREAD_LONG_EXIT", "short"),
        (1, "SPREAD_SHORT_ENTRY", "short"),
    ]


def test_signals_carry_the_flow_time_and_the_symbol_asked_for() -> None:
    ctx = make_ctx(
        {"A": make_bars("A", [1, 1]), "B": make_bars("B", [1, 1])},
        facts={"fast": [1, 3], "slow": [2, 2]},
        index=1,
    )
    detector = MovingAverageCrossover(CrossoverParams(fast="fast", slow="slow", symbol="B"))
    signal = detector.detect(ctx)
    assert signal is not None
    assert signal.symbol == "B"
    assert signal.timestamp == ctx.now
    assert signal.direction is SignalDirection.LONG


def test_rsi_threshold_on_goog_fires_at_the_crossings_of_an_independent_series() -> None:
    goog = load_bars("GOOG_1d", symbol="GOOG")
    rsi = RelativeStrengthIndex(RsiParams(period=14)).compute({"GOOG": goog})["value"]
    ctx = make_ctx(goog, facts={"rsi": rsi})
    detector = RsiThreshold(RsiThresholdParams(rsi="rsi"))
    fired = _fires(detector, ctx, len(goog))
    expected = [
        (i, "RSI_OVERSOLD" if rsi[i] >= 30 > rsi[i - 1] else "RSI_OVERBOUGHT")
        for i in range(1, len(goog))
        if rsi[i - 1] < 30 <= rsi[i] or rsi[i - 1] > 70 >= rsi[i]
    ]
    assert [(i, kind) for i, kind, _ in fired] == expected
    assert len(expected) > 10
