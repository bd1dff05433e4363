"""Small hand-made worlds for plugin tests: bars, a fake ledger view, a flow context, legs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from pydantic import BaseModel

from simpletrader.core.cache import StrategyCache
from simpletrader.core.clock import SimulatedClock
from simpletrader.core.enums import LegScope, Side, TradeDirection
from simpletrader.core.ids import IdGenerator
from simpletrader.data import Bars, default_instrument
from simpletrader.dtos import (
    CausalityChain,
    ExecutionDirective,
    ExitDirective,
    LegDirective,
    SizeDirective,
    StrategyDirective,
)
from simpletrader.plugins.base import FlowContext, LegContext

DAY_NS = 86_400 * 1_000_000_000
START_NS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000_000


def make_bars(
    symbol: str,
    closes: Sequence[float],
    *,
    highs: Sequence[float] | None = None,
    lows: Sequence[float] | None = None,
    opens: Sequence[float] | None = None,
) -> Bars:
    """Daily bars from 2024-01-01; high/low default to the larger/smaller of open and close."""
    close = np.asarray(closes, dtype=np.float64)
    open_ = np.asarray(opens, dtype=np.float64) if opens is not None else close.copy()
    high = np.asarray(highs, dtype=np.float64) if highs is not None else np.maximum(open_, close)
    low = np.asarray(lows, dtype=np.float64) if lows is not None else np.minimum(open_, close)
    n = len(close)
    return Bars(
        symbol=symbol,
        timestamps=START_NS + DAY_NS * np.arange(n, dtype=np.int64),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.full(n, 1_000.0),
        source="hand-made",
        timeframe_seconds=86_400,
    )


@dataclass
class FakePlan:
    trade_plan_id: str
    symbol: str
    direction: TradeDirection
    net: Decimal
    average_price: Decimal = Decimal(100)
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


@dataclass
class FakeLedger:
    """A LedgerView with settable cash, positions, plans and peak."""

    cash: Decimal = Decimal(100_000)
    positions: dict[str, Decimal] = field(default_factory=dict)
    plans: list[FakePlan] = field(default_factory=list)
    peak: float = 100_000.0
    working: set[str] = field(default_factory=set)

    def equity(self) -> float:
        return self.peak

    def peak_equity(self) -> float:
        return self.peak

    def net(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, Decimal(0))

    def open_plans(self, strategy_id: str, symbol: str | None = None) -> Sequence[FakePlan]:
        return tuple(p for p in self.plans if symbol is None or p.symbol == symbol)

    def has_working_command(self, trade_plan_id: str) -> bool:
        return trade_plan_id in self.working

    def hold(self, plan: FakePlan) -> None:
        """Open ``plan`` and put its net into the positions."""
        self.plans.append(plan)
        self.positions[plan.symbol] = self.positions.get(plan.symbol, Decimal(0)) + plan.net


def make_ctx(
    bars: Mapping[str, Bars] | Bars,
    *,
    index: int = 0,
    ledger: FakeLedger | None = None,
    facts: Mapping[str, Sequence[float]] | None = None,
) -> FlowContext:
    """A flow context at bar ``index`` (clock at its close) with default instruments."""
    if isinstance(bars, Bars):
        bars = {bars.symbol: bars}
    cache = StrategyCache(bars)
    for name, values in (facts or {}).items():
        cache.add_fact(name, np.asarray(values, dtype=np.float64))
    cache.index = index
    clock = SimulatedClock(START_NS + DAY_NS * (index + 1))
    return FlowContext(
        strategy_id="test",
        cache=cache,
        ledger=ledger or FakeLedger(),
        ids=IdGenerator(7),
        clock=clock,
        instruments={s: default_instrument(s) for s in bars},
        bar_seconds=86_400,
    )


def at_bar(ctx: FlowContext, index: int) -> FlowContext:
    """Move ``ctx`` to bar ``index`` (cache and clock)."""
    ctx.cache.index = index
    assert isinstance(ctx.clock, SimulatedClock)
    ctx.clock.set(START_NS + DAY_NS * (index + 1))
    return ctx


def make_directive(
    ctx: FlowContext,
    legs: Sequence[LegDirective],
    *,
    confidence: float = 1.0,
    size: SizeDirective | None = None,
    exit_: ExitDirective | None = None,
    routing: ExecutionDirective | None = None,
) -> StrategyDirective:
    directive_id = ctx.new_id("STR")
    return StrategyDirective(
        directive_id=directive_id,
        strategy_id=ctx.strategy_id,
        decision_timestamp=ctx.now,
        causality=CausalityChain(origin_id=ctx.new_id("TCK"), directive_id=directive_id),
        confidence=confidence,
        legs=tuple(legs),
        size_directive=size or SizeDirective(),
        exit_directive=exit_ or ExitDirective(),
        routing_directive=routing or ExecutionDirective(),
    )


def new_leg(symbol: str, side: Side = Side.BUY, **fields: object) -> LegDirective:
    return LegDirective(scope=LegScope.NEW_TRADE, symbol=symbol, direction=side, **fields)  # type: ignore[arg-type]


def leg_context(
    ctx: FlowContext,
    leg: LegDirective,
    *,
    directive: StrategyDirective | None = None,
    plan: FakePlan | None = None,
    **directive_fields: object,
) -> LegContext:
    """The planning context of ``leg`` (the only leg of a fresh directive unless given)."""
    directive = directive or make_directive(ctx, [leg], **directive_fields)  # type: ignore[arg-type]
    if leg.scope is LegScope.NEW_TRADE:
        assert leg.direction is not None
        direction = TradeDirection.from_side(leg.direction)
    else:
        assert plan is not None
        direction = plan.direction
    return LegContext(
        ctx=ctx,
        directive=directive,
        leg=leg,
        leg_index=list(directive.legs).index(leg),
        reference_price=Decimal(repr(ctx.cache.close(leg.symbol))),
        direction=direction,
        plan=plan,
    )


def assert_as_validated(model: BaseModel) -> None:
    """``model`` (nested models too) is what its constructor makes of its own values: equal,
    the same value types, fields in the same order, the same fields-set. What a trusted build
    must give."""
    rebuilt = type(model)(**{name: getattr(model, name) for name in model.model_fields_set})
    assert rebuilt == model
    assert repr(rebuilt) == repr(model)
    assert list(rebuilt.__dict__) == list(model.__dict__)
    assert [type(v) for v in rebuilt.__dict__.values()] == [
        type(v) for v in model.__dict__.values()
    ]
    assert rebuilt.model_fields_set == model.model_fields_set
    for value in model.__dict__.values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, BaseModel):
                assert_as_validated(item)
