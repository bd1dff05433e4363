"""Built-in risk monitors: fire on the bar a threat starts, re-arm when it clears."""

from __future__ import annotations

from decimal import Decimal

import pytest
from plugin_kit import FakeLedger, FakePlan, at_bar, make_bars, make_ctx

from simpletrader.core.enums import TradeDirection
from simpletrader.dtos import Risk
from simpletrader.plugins.base import FlowContext, RiskMonitor
from simpletrader.plugins.risks import (
    Exposure,
    ExposureParams,
    FastDrop,
    FastDropParams,
    MaxDrawdown,
    MaxDrawdownParams,
)


def _risks(monitor: RiskMonitor, ctx: FlowContext, n: int) -> list[tuple[int, Risk]]:
    out = []
    for i in range(n):
        found = monitor.assess(at_bar(ctx, i))
        if isinstance(found, Risk):
            out.append((i, found))
        elif found is not None:
            out.extend((i, r) for r in found)
    return out


def _long(ledger: FakeLedger, symbol: str, units: int) -> None:
    ledger.hold(
        FakePlan(
            f"TPL_20240101_000000_0000000{len(ledger.plans)}",
            symbol,
            TradeDirection.LONG,
            Decimal(units),
        )
    )


def test_fast_drop_fires_once_per_drop_and_per_symbol() -> None:
    a = make_bars("A", [100, 101, 99, 93, 90, 95, 100, 100, 94])
    b = make_bars("B", [50, 50, 50, 50, 50, 50, 50, 50, 50])
    ctx = make_ctx({"A": a, "B": b})
    monitor = FastDrop(FastDropParams(pct=0.05, bars=3))
    monitor.setup(ctx)
    fired = _risks(monitor, ctx, 9)
    # bar 3: 93 vs max(100, 101, 99) -> 7.9%; bar 4 still down (no repeat); bar 5 clear
    # (95 vs 101 is 5.9% -> still breached); bar 6 clear; bar 8: 94 vs 100 -> 6%
    assert [(i, r.risk_type, r.affected_symbol) for i, r in fired] == [
        (3, "FAST_DROP", "A"),
        (8, "FAST_DROP", "A"),
    ]
    drop = 1 - 93 / 101
    assert fired[0][1].severity == pytest.approx(drop / 0.10)


def test_fast_drop_system_wide_has_no_affected_symbol() -> None:
    ctx = make_ctx(make_bars("A", [100, 80]))
    monitor = FastDrop(FastDropParams(pct=0.1, bars=1, system_wide=True))
    monitor.setup(ctx)
    [(bar, risk)] = _risks(monitor, ctx, 2)
    assert (bar, risk.affected_symbol) == (1, None)
    assert risk.severity == pytest.approx(1.0)


def test_fast_drop_refuses_an_unknown_symbol() -> None:
    ctx = make_ctx(make_bars("A", [100, 80]))
    with pytest.raises(ValueError, match=r"\['Z'\] are not traded; known: A"):
        FastDrop(FastDropParams(pct=0.1, symbols=("Z",))).setup(ctx)


def test_max_drawdown_marks_equity_at_the_current_close() -> None:
    ledger = FakeLedger(cash=Decimal(0), peak=10_000.0)
    _long(ledger, "A", 100)
    ctx = make_ctx(make_bars("A", [100, 90, 79, 70, 85, 95, 75]), ledger=ledger)
    monitor = MaxDrawdown(MaxDrawdownParams(limit=0.2))
    fired = _risks(monitor, ctx, 7)
    # equity 10000 9000 7900 7000 8500 9500 7500 against a peak of 10000
    assert [(i, r.risk_type, r.affected_symbol) for i, r in fired] == [
        (2, "MAX_DRAWDOWN", None),
        (6, "MAX_DRAWDOWN", None),
    ]
    assert fired[0][1].severity == pytest.approx(0.21 / 0.4)


def test_exposure_fires_when_gross_exposure_passes_the_limit() -> None:
    ledger = FakeLedger(cash=Decimal(-5_000))
    _long(ledger, "A", 100)
    ctx = make_ctx(make_bars("A", [100, 120, 200, 210, 101]), ledger=ledger)
    monitor = Exposure(ExposureParams(limit=1.5))
    fired = _risks(monitor, ctx, 5)
    # exposure / equity: 10000/5000 = 2 (fires), 12000/7000, 20000/15000 = 1.33 (clear),
    # 21000/16000, 10100/5100 = 1.98 (fires again)
    assert [i for i, _ in fired] == [0, 4]
    assert fired[0][1].severity == pytest.approx(2 / 3)


def test_exposure_is_quiet_without_positions() -> None:
    ctx = make_ctx(make_bars("A", [100, 50]))
    assert _risks(Exposure(ExposureParams(limit=0.1)), ctx, 2) == []
