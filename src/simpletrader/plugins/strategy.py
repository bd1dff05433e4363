"""Built-in strategy planners: exactly one per strategy turns signals, risks, schedule ticks and
held positions into at most one directive.

Every built-in takes the shared :class:`PlannerParams` (``policy``, ``size_directive``,
``exit_directive``, ``routing_directive``, ``leg_slippage``); a directive's policy is the
planner's ``policy`` param, else the blueprint's ``execution.policy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal, Self

from croniter import croniter
from pydantic import BaseModel, Field, field_validator, model_validator

from simpletrader.core.enums import LegScope, Side, SignalDirection, TradeDirection
from simpletrader.core.ids import ID_FORMATS
from simpletrader.dtos import LegDirective, Risk, StrategyDirective
from simpletrader.plugins.base import (
    Decision,
    FlowContext,
    PlannerParams,
    PlanView,
    StrategyPlanner,
    known_symbol,
)
from simpletrader.plugins.registry import register
from simpletrader.plugins.risks import FAST_DROP
from simpletrader.plugins.signals import (
    SPREAD_LONG_ENTRY,
    SPREAD_LONG_EXIT,
    SPREAD_SHORT_ENTRY,
    SPREAD_SHORT_EXIT,
)

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def check_cron(value: str) -> str:
    """Validate cron text (5 fields, or @daily/@weekly/@monthly/...), UTC."""
    if not croniter.is_valid(value):
        raise ValueError(
            f"schedule {value!r} is not a cron expression; use 5 fields 'minute hour day month "
            "weekday' (e.g. '0 0 * * MON' weekly on Monday) or @daily, @weekly, @monthly"
        )
    return value


_TRADE_PLAN_ID = ID_FORMATS["TPL"]

# Enum members read per order, bound once: Python 3.11's EnumType.__getattr__ makes
# `LegScope.NEW_TRADE` a slow metaclass lookup.
_NEW_TRADE, _CLOSE_EXISTING = LegScope.NEW_TRADE, LegScope.CLOSE_EXISTING
_LONG, _SHORT = TradeDirection.LONG, TradeDirection.SHORT
_SIGNAL_LONG = SignalDirection.LONG


def close_leg(plan: PlanView) -> LegDirective:
    trade_plan_id, symbol = plan.trade_plan_id, plan.symbol
    # A leg of a well-formed id and symbol passes its validation unchanged (CLOSE, no target).
    trusted = (
        type(trade_plan_id) is str
        and _TRADE_PLAN_ID.is_valid(trade_plan_id)
        and known_symbol(symbol)
    )
    return (LegDirective.trusted if trusted else LegDirective)(
        scope=_CLOSE_EXISTING, trade_plan_id=trade_plan_id, symbol=symbol
    )


def open_leg(symbol: str, direction: Side) -> LegDirective:
    """A NEW_TRADE leg sized by the size planner."""
    trusted = direction.__class__ is Side and known_symbol(symbol)
    return (LegDirective.trusted if trusted else LegDirective)(
        scope=_NEW_TRADE, symbol=symbol, direction=direction
    )


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


class SignalToDirectiveParams(PlannerParams):
    allow_short: bool = Field(
        default=False, description="a short signal opens a short (else it only closes longs)"
    )
    default_confidence: Fraction = Field(
        default=1.0, description="confidence when no signal carries one"
    )


@register("signal_to_directive")
class SignalToDirective(StrategyPlanner):
    """Opens on a signal when flat; closes an opposite position on the opposite signal.

    With ``allow_short`` an opposite signal also opens the reverse position (CLOSE then NEW in
    one directive). Each symbol follows its latest signal of the flow, all in one directive.
    Confidence is the strongest signal's, or ``default_confidence``.
    """

    Params = SignalToDirectiveParams

    def decide(self, decision: Decision) -> StrategyDirective | None:
        return self.from_signals(decision)

    def from_signals(self, decision: Decision) -> StrategyDirective | None:
        """The directive the latest signal of each symbol asks for (None when they change
        nothing); symbols in the order they first signalled in the flow."""
        p: SignalToDirectiveParams = self.params
        if not decision.signals:
            return None
        latest = {signal.symbol: signal for signal in decision.signals}
        ledger = decision.ctx.ledger
        legs: list[LegDirective] = []
        for symbol, signal in latest.items():
            open_plans = ledger.open_plans(decision.ctx.strategy_id, symbol)
            wanted = _LONG if signal.direction is _SIGNAL_LONG else _SHORT
            holds_wanted = False
            for plan in open_plans:
                if plan.direction is wanted:
                    holds_wanted = True
                else:
                    legs.append(close_leg(plan))
            if not holds_wanted and (wanted is _LONG or p.allow_short):
                legs.append(open_leg(symbol, wanted.entry_side))
        if not legs:
            return None
        confidences = [s.confidence for s in decision.signals if s.confidence is not None]
        confidence = max(confidences) if confidences else p.default_confidence
        return self.directive(decision, legs, confidence=confidence)


class PositionManagerParams(SignalToDirectiveParams):
    trail_pct: Annotated[float | None, Field(gt=0.0, lt=1.0)] = Field(
        default=0.05, description="trailing distance below (above, short) the close, a fraction"
    )
    trail_atr: str | None = Field(
        default=None, description="fact name of an ATR: trail atr_multiple ATRs instead"
    )
    atr_multiple: Annotated[float, Field(gt=0.0)] = 3.0
    atr_symbol: str | None = Field(
        default=None,
        description="with trail_atr, only plans on this symbol trail (the ATR's symbol); "
        "none: the strategy's first symbol",
    )
    min_step_pct: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0, description="raise only when the stop moves at least this fraction"
    )

    @model_validator(mode="after")
    def _check_trail(self) -> Self:
        if self.trail_atr is None and self.trail_pct is None:
            raise ValueError("set trail_pct or trail_atr")
        return self


@register("position_manager")
class PositionManager(SignalToDirective):
    """Signal trading plus a trailing stop that is raised, never lowered.

    Entries and exits as ``signal_to_directive``; while a position is held (position trigger)
    it emits exit-only MODIFY legs that move a long's stop up (a short's down) to ``trail_pct``
    (or ``atr_multiple`` x ATR) from the close.
    """

    Params = PositionManagerParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        # The stops this planner asked for, per trade plan: the never-loosen rule holds even
        # before the venue reports the protective order back on the plan.
        self._stops: dict[str, Decimal] = {}

    @property
    def position_trigger(self) -> bool:
        return True

    def decide(self, decision: Decision) -> StrategyDirective | None:
        if decision.signals:
            directive = self.from_signals(decision)
            if directive is not None:
                return directive
        return self.trail(decision)

    def trail(self, decision: Decision) -> StrategyDirective | None:
        """One directive with an exit-only MODIFY leg per plan whose stop should tighten."""
        p: PositionManagerParams = self.params
        ctx = decision.ctx
        plans = ctx.ledger.open_plans(ctx.strategy_id)
        if len(self._stops) > len(plans):
            live = {plan.trade_plan_id for plan in plans}
            self._stops = {k: v for k, v in self._stops.items() if k in live}
        legs: list[LegDirective] = []
        tolerance = 0.0
        atr_symbol = p.atr_symbol or ctx.cache.primary
        for plan in plans:
            if plan.net == 0 or ctx.ledger.has_working_command(plan.trade_plan_id):
                continue
            close = ctx.cache.close(plan.symbol)
            if p.trail_atr is not None:
                # One directive has one tolerance: an ATR trails the plans of its own symbol.
                if plan.symbol != atr_symbol:
                    continue
                tolerance = p.atr_multiple * ctx.cache.fact(p.trail_atr) / close
            else:
                assert p.trail_pct is not None
                tolerance = p.trail_pct
            if not 0.0 < tolerance < 1.0:
                continue
            stop = self._stop_for(ctx, plan, close, tolerance)
            if stop is None:
                continue
            self._stops[plan.trade_plan_id] = stop
            legs.append(
                LegDirective(
                    scope=LegScope.MODIFY_EXISTING,
                    trade_plan_id=plan.trade_plan_id,
                    symbol=plan.symbol,
                )
            )
        if not legs:
            return None
        exit_directive = p.exit_directive.model_copy(update={"stop_loss_tolerance": tolerance})
        return self.directive(decision, legs, exit_directive=exit_directive)

    def _stop_for(
        self, ctx: FlowContext, plan: PlanView, close: float, tolerance: float
    ) -> Decimal | None:
        """The new stop for ``plan``, or None when it would not tighten the current one."""
        long = plan.direction is TradeDirection.LONG
        reference = _decimal(close)
        candidate = reference * (1 - _decimal(tolerance) if long else 1 + _decimal(tolerance))
        instrument = ctx.instruments.get(plan.symbol)
        if instrument is not None:
            candidate = instrument.round_price(candidate)
        known = [s for s in (plan.stop_loss, self._stops.get(plan.trade_plan_id)) if s is not None]
        if not known:
            return candidate
        current = max(known) if long else min(known)
        step = current * _decimal(self.params.min_step_pct)
        if long:
            return candidate if candidate > current + step else None
        return candidate if candidate < current - step else None


class PairTradeParams(PlannerParams):
    pair: tuple[str, str] = Field(description="symbols (a, b) of the spread a - hedge_ratio * b")
    hedge_ratio: str | None = Field(
        default=None,
        description="fact name of the hedge ratio (e.g. '<zscore>.hedge_ratio'); none: 1",
    )
    ratio_in: Literal["units", "notional"] = Field(
        default="units",
        description="units: the ratio is units of b per unit of a (price spreads); notional: "
        "value of b per value of a (log-price spreads)",
    )
    confidence: Fraction = 1.0


@register("pair_trade")
class PairTrade(StrategyPlanner):
    """Pairs trading: both legs open in one NEW_TRADE directive and close in one directive.

    On zscore_bands signals: a long spread buys a and sells b (mirrored for short), the budget
    split by the hedge ratio through ``size_weight``; an exit (or the opposite entry) closes
    every open leg. No trade when the hedge ratio is not positive.
    """

    Params = PairTradeParams

    def setup(self, ctx: FlowContext) -> None:
        super().setup(ctx)
        ctx.require_traded(self.params.pair, "pair symbols")

    def decide(self, decision: Decision) -> StrategyDirective | None:
        p: PairTradeParams = self.params
        kinds = {s.signal_type for s in decision.signals}
        if not kinds:
            return None
        ctx = decision.ctx
        a, b = p.pair
        held = [plan for plan in ctx.ledger.open_plans(ctx.strategy_id) if plan.symbol in p.pair]
        if held:
            a_plans = [plan for plan in held if plan.symbol == a]
            long_spread = (a_plans[0].direction is TradeDirection.LONG) if a_plans else None
            exits = {SPREAD_LONG_EXIT, SPREAD_SHORT_ENTRY} if long_spread else set()
            if long_spread is False:
                exits = {SPREAD_SHORT_EXIT, SPREAD_LONG_ENTRY}
            if long_spread is None:  # a leg left over: any exit signal closes it
                exits = {SPREAD_LONG_EXIT, SPREAD_SHORT_EXIT}
            if kinds & exits:
                legs = [close_leg(plan) for plan in held]
                return self.directive(decision, legs, confidence=p.confidence)
            return None
        if SPREAD_LONG_ENTRY in kinds:
            sides = (Side.BUY, Side.SELL)
        elif SPREAD_SHORT_ENTRY in kinds:
            sides = (Side.SELL, Side.BUY)
        else:
            return None
        beta = ctx.cache.fact(p.hedge_ratio) if p.hedge_ratio is not None else 1.0
        if not beta > 0:
            return None
        if p.ratio_in == "units":
            weights = (
                ctx.cache.close(a) * ctx.multiplier(a),
                beta * ctx.cache.close(b) * ctx.multiplier(b),
            )
        else:
            weights = (1.0, beta)
        if not all(0.0 < w < float("inf") for w in weights):
            return None
        legs = [
            LegDirective(scope=LegScope.NEW_TRADE, symbol=s, direction=side, size_weight=w)
            for s, side, w in zip(p.pair, sides, weights, strict=True)
        ]
        return self.directive(decision, legs, confidence=p.confidence)


class DcaLadderParams(PlannerParams):
    schedule: str = Field(description="cron text, UTC (e.g. '0 0 * * MON': weekly on Monday)")
    symbol: str | None = Field(default=None, description="none: the strategy's first symbol")
    amount: Annotated[Decimal, Field(gt=0)] = Field(
        description="money spent per schedule tick, over all rungs"
    )
    offsets: tuple[Annotated[float, Field(ge=0.0, lt=1.0)], ...] = Field(
        default=(0.01, 0.02, 0.03), min_length=1, description="each rung's distance below the close"
    )
    weights: tuple[Annotated[float, Field(gt=0.0)], ...] | None = Field(
        default=None, description="share of `amount` per rung; none: equal"
    )
    accumulate: bool = Field(
        default=False,
        description="grow one position: once a plan is open, rungs are MODIFY legs with "
        "cumulative absolute targets (each assumes the rungs above it filled, as a SEQUENTIAL "
        "batch guarantees), and a tick while the last ladder still works is skipped; else "
        "every rung opens its own plan",
    )
    confidence: Fraction = 1.0

    _cron = field_validator("schedule")(check_cron)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.weights is not None and len(self.weights) != len(self.offsets):
            raise ValueError(
                f"weights has {len(self.weights)} entries but offsets has {len(self.offsets)}"
            )
        return self


@register("dca_ladder")
class DcaLadder(StrategyPlanner):
    """Scheduled DCA: on each schedule tick, a ladder of limit buys below the close.

    One NEW_TRADE leg per rung with ``preferred_price_zone`` at close x (1 - offset) (pair it
    with the ``zone_limit`` entry planner) and an absolute size of its share of ``amount`` at
    that price. With ``accumulate`` and a plan open on the symbol, the rungs are MODIFY legs of
    that plan instead, rung k targeting what is held plus rungs 1..k (sizes floored to the lot),
    and no ladder is made while the previous one still works on the plan.
    """

    Params = DcaLadderParams

    def decide(self, decision: Decision) -> StrategyDirective | None:
        if "schedule" not in decision.triggers:
            return None
        p: DcaLadderParams = self.params
        ctx = decision.ctx
        symbol = p.symbol or ctx.cache.primary
        close = ctx.cache.close(symbol)
        if not close > 0:
            return None
        weights = p.weights or (1.0,) * len(p.offsets)
        total = sum(weights)
        instrument = ctx.instruments.get(symbol)
        plan = None
        if p.accumulate:
            longs = [
                held
                for held in ctx.ledger.open_plans(ctx.strategy_id, symbol)
                if held.direction is TradeDirection.LONG
            ]
            plan = longs[0] if longs else None
            if plan is not None and ctx.ledger.has_working_command(plan.trade_plan_id):
                # The last ladder still works on the plan: a new one would supersede its rung
                # while it moves on to the next (ladders never stack on one position).
                return None
        target = abs(plan.net) if plan is not None else Decimal(0)
        legs = []
        for offset, weight in zip(p.offsets, weights, strict=True):
            price = _decimal(close) * (1 - _decimal(offset))
            if instrument is not None:
                price = instrument.round_price(price)
            if price <= 0:
                continue
            size = p.amount * _decimal(weight / total) / price
            zone = (price, price)
            if plan is None:
                legs.append(
                    LegDirective(
                        scope=LegScope.NEW_TRADE,
                        symbol=symbol,
                        direction=Side.BUY,
                        target_size=size,
                        preferred_price_zone=zone,
                    )
                )
                continue
            if instrument is not None:
                size = instrument.floor_quantity(size)
            if size <= 0:
                continue
            target += size
            legs.append(
                LegDirective(
                    scope=LegScope.MODIFY_EXISTING,
                    trade_plan_id=plan.trade_plan_id,
                    symbol=symbol,
                    target_size=target,
                    preferred_price_zone=zone,
                )
            )
        if not legs:
            return None
        return self.directive(decision, legs, confidence=p.confidence)


class RebalanceParams(PlannerParams):
    schedule: str = Field(description="cron text, UTC (e.g. '@monthly')")
    weights: dict[str, Fraction] = Field(
        min_length=1, description="target weight per symbol, a fraction of equity"
    )
    drift: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0, description="leave a position alone when within this fraction of target"
    )
    cash_buffer: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.0,
        description="fraction of equity left in cash: targets are weight x (1 - cash_buffer) "
        "of equity, so buys filled at the next open still find the cash after a gap and fees",
    )
    confidence: Fraction = 1.0

    _cron = field_validator("schedule")(check_cron)

    @model_validator(mode="after")
    def _check(self) -> Self:
        total = sum(self.weights.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"weights add up to {total:g}; at most 1 (no leverage)")
        return self


@register("rebalance")
class Rebalance(StrategyPlanner):
    """Scheduled rebalancing to target weights of equity, as absolute sizes.

    On each schedule tick: MODIFY an open plan, NEW_TRADE where none is open, CLOSE at weight
    0. Reducing legs come first, so their cash is there for the buys. Targets are units at the
    decision close of ``weight x (1 - cash_buffer)`` of equity.
    """

    Params = RebalanceParams

    def setup(self, ctx: FlowContext) -> None:
        super().setup(ctx)
        ctx.require_traded(self.params.weights, "weights name")

    def decide(self, decision: Decision) -> StrategyDirective | None:
        if "schedule" not in decision.triggers:
            return None
        p: RebalanceParams = self.params
        ctx = decision.ctx
        equity = ctx.equity_now() * (1.0 - p.cash_buffer)
        reducing: list[LegDirective] = []
        adding: list[LegDirective] = []
        for symbol, weight in p.weights.items():
            close = ctx.cache.close(symbol)
            if not close > 0:
                continue
            units = _decimal(max(0.0, weight * equity / (close * ctx.multiplier(symbol))))
            instrument = ctx.instruments.get(symbol)
            if instrument is not None:
                units = instrument.floor_quantity(units)
            plans = ctx.ledger.open_plans(ctx.strategy_id, symbol)
            # Extra plans on one symbol are closed; the first carries the target.
            reducing.extend(close_leg(plan) for plan in plans[1:])
            if not plans:
                if units > 0:
                    adding.append(
                        LegDirective(
                            scope=LegScope.NEW_TRADE,
                            symbol=symbol,
                            direction=Side.BUY,
                            target_size=units,
                        )
                    )
                continue
            plan = plans[0]
            held = abs(plan.net) if plan.direction is TradeDirection.LONG else -abs(plan.net)
            if units == 0:
                reducing.append(close_leg(plan))
                continue
            if held > 0 and abs(units - held) <= units * _decimal(p.drift):
                continue
            if held < 0:  # a short under a long-only target: close it and buy afresh
                reducing.append(close_leg(plan))
                adding.append(
                    LegDirective(
                        scope=LegScope.NEW_TRADE,
                        symbol=symbol,
                        direction=Side.BUY,
                        target_size=units,
                    )
                )
                continue
            leg = LegDirective(
                scope=LegScope.MODIFY_EXISTING,
                trade_plan_id=plan.trade_plan_id,
                symbol=symbol,
                target_size=units,
            )
            (reducing if units < held else adding).append(leg)
        legs = reducing + adding
        if not legs:
            return None
        return self.directive(decision, legs, confidence=p.confidence)


class ScaleInOutParams(PlannerParams):
    schedule: str = Field(description="cron text, UTC (e.g. '0 0 * * MON': weekly on Monday)")
    fact: str = Field(description="fact whose level sets the target (e.g. an RSI)")
    steps: tuple[tuple[float, Fraction], ...] = Field(
        min_length=1,
        description="(level, weight) pairs: hold weight x equity once the fact is at or above "
        "level (the highest level reached wins; below every level: flat)",
    )
    below: bool = Field(
        default=False,
        description="read the steps downwards: a step holds at or below its level (the lowest "
        "level reached wins)",
    )
    symbol: str | None = Field(default=None, description="none: the strategy's first symbol")
    redeliver: bool = Field(
        default=False,
        description="also send the target on ticks where it has not changed, as an "
        "at-least-once feed re-delivers: an absolute target already held makes no order",
    )
    confidence: Fraction = 1.0

    _cron = field_validator("schedule")(check_cron)

    @model_validator(mode="after")
    def _check(self) -> Self:
        levels = [level for level, _ in self.steps]
        if len(set(levels)) != len(levels):
            raise ValueError(f"steps repeat a level: {levels}")
        return self


@register("scale_in_out")
class ScaleInOut(StrategyPlanner):
    """Scales one position in and out along steps of a fact, as absolute targets.

    On each schedule tick the fact's step gives a target weight; when the step changes, the
    weight becomes units at the decision close (floored to the lot), and that absolute size is
    the target until the step changes again: NEW_TRADE from flat, MODIFY to resize, CLOSE at
    weight 0. A re-delivered target (``redeliver``) finds it already held and makes no order.
    """

    Params = ScaleInOutParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        p: ScaleInOutParams = self.params
        self._steps = sorted(p.steps, reverse=not p.below)
        self._step: int | None = None
        self._units = Decimal(0)

    def setup(self, ctx: FlowContext) -> None:
        super().setup(ctx)
        if self.params.symbol is not None:
            ctx.require_traded([self.params.symbol], "symbol")

    def step_of(self, value: float) -> int | None:
        """Index (into the steps by level) of the step ``value`` reaches, None below them all."""
        below = self.params.below
        for k, (level, _) in enumerate(self._steps):
            if (value <= level) if below else (value >= level):
                return k
        return None

    def decide(self, decision: Decision) -> StrategyDirective | None:
        if "schedule" not in decision.triggers:
            return None
        p: ScaleInOutParams = self.params
        ctx = decision.ctx
        symbol = p.symbol or ctx.cache.primary
        value = ctx.cache.fact(p.fact)
        close = ctx.cache.close(symbol)
        if not (value == value and close > 0):  # NaN: no reading yet
            return None
        step = self.step_of(value)
        # The step before the first reading is None (flat), as below every level.
        changed = step != self._step
        if not changed and not p.redeliver:
            return None
        if changed:
            self._step = step
            weight = self._steps[step][1] if step is not None else 0.0
            units = _decimal(max(0.0, weight * ctx.equity_now() / (close * ctx.multiplier(symbol))))
            instrument = ctx.instruments.get(symbol)
            self._units = instrument.floor_quantity(units) if instrument is not None else units
        units = self._units
        plans = ctx.ledger.open_plans(ctx.strategy_id, symbol)
        longs = [plan for plan in plans if plan.direction is TradeDirection.LONG]
        kept = longs[0] if units > 0 and longs else None
        # Every other plan on the symbol closes first; the kept one carries the target.
        legs = [close_leg(plan) for plan in plans if plan is not kept]
        if kept is not None:
            legs.append(
                LegDirective(
                    scope=LegScope.MODIFY_EXISTING,
                    trade_plan_id=kept.trade_plan_id,
                    symbol=symbol,
                    target_size=units,
                )
            )
        elif units > 0:
            legs.append(
                LegDirective(
                    scope=LegScope.NEW_TRADE, symbol=symbol, direction=Side.BUY, target_size=units
                )
            )
        if not legs:
            return None
        return self.directive(decision, legs, confidence=p.confidence)


class RotationParams(PlannerParams):
    symbols: tuple[str, ...] | None = Field(
        default=None, description="candidates; none: every symbol of the strategy"
    )
    lookback: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=20, description="momentum = close / close `lookback` bars ago - 1"
    )
    min_momentum: float = Field(
        default=0.0, description="hold nothing when the best momentum is not above this"
    )
    schedule: str | None = Field(
        default=None, description="cron text, UTC; none: rotate on signals only"
    )
    confidence: Fraction = 1.0

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return check_cron(value) if value is not None else None


@register("rotation")
class Rotation(StrategyPlanner):
    """Rotation into the strongest momentum: CLOSE what is held, then NEW the leader.

    Runs on its schedule and on signals; momentum is close / close ``lookback`` bars ago - 1.
    The new leader is sized by the size planner.
    """

    Params = RotationParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self._symbols: tuple[str, ...] = ()

    def setup(self, ctx: FlowContext) -> None:
        super().setup(ctx)
        self._symbols = self.params.symbols or ctx.cache.symbols
        ctx.require_traded(self._symbols, "symbols")

    def leader(self, ctx: FlowContext) -> str | None:
        """The candidate with the highest momentum above ``min_momentum`` (None if none)."""
        p: RotationParams = self.params
        best: str | None = None
        best_momentum = p.min_momentum
        for symbol in self._symbols:
            then = ctx.cache.close(symbol, p.lookback)
            momentum = ctx.cache.close(symbol) / then - 1.0 if then > 0 else float("nan")
            if momentum > best_momentum:
                best, best_momentum = symbol, momentum
        return best

    def decide(self, decision: Decision) -> StrategyDirective | None:
        ctx = decision.ctx
        leader = self.leader(ctx)
        held = ctx.ledger.open_plans(ctx.strategy_id)
        legs = [close_leg(plan) for plan in held if plan.symbol != leader]
        if leader is not None and not any(plan.symbol == leader for plan in held):
            legs.append(LegDirective(scope=LegScope.NEW_TRADE, symbol=leader, direction=Side.BUY))
        if not legs:
            return None
        return self.directive(decision, legs, confidence=self.params.confidence)


class FlashCrashExitParams(SignalToDirectiveParams):
    risk_types: tuple[str, ...] = Field(
        default=(FAST_DROP,), min_length=1, description="risk types that close positions"
    )
    min_severity: Fraction = 0.0
    close: Literal["all", "affected"] = Field(
        default="all",
        description="all: close every open position; affected: only those on the risk's "
        "symbol (a system-wide risk affects all)",
    )
    exit_urgency: Fraction = Field(
        default=1.0, description="execution_urgency of the closing directive"
    )


@register("flash_crash_exit")
class FlashCrashExit(SignalToDirective):
    """Signal trading that closes every position in one directive on a crash risk.

    Entries and exits as ``signal_to_directive``; a risk of ``risk_types`` instead makes one
    directive with a CLOSE leg per open position (or per affected one), at ``exit_urgency``.
    """

    Params = FlashCrashExitParams

    def decide(self, decision: Decision) -> StrategyDirective | None:
        p: FlashCrashExitParams = self.params
        risks = [
            r
            for r in decision.risks
            if r.risk_type in p.risk_types and r.severity >= p.min_severity
        ]
        if risks:
            directive = self._close_out(decision, risks)
            if directive is not None:
                return directive
        return self.from_signals(decision)

    def _close_out(self, decision: Decision, risks: Sequence[Risk]) -> StrategyDirective | None:
        p: FlashCrashExitParams = self.params
        ctx = decision.ctx
        plans = ctx.ledger.open_plans(ctx.strategy_id)
        if p.close == "affected":
            symbols = {r.affected_symbol for r in risks}
            if None not in symbols:
                plans = [plan for plan in plans if plan.symbol in symbols]
        legs = [close_leg(plan) for plan in plans]
        if not legs:
            return None
        routing = p.routing_directive.model_copy(update={"execution_urgency": p.exit_urgency})
        return self.directive(decision, legs, routing_directive=routing)
