"""Built-in strategy planners."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simpletrader.core.enums import LegScope, Side, SignalDirection, TradeDirection
from simpletrader.dtos import LegDirective, StrategyDirective
from simpletrader.plugins.base import Decision, StrategyPlanner
from simpletrader.plugins.registry import register


class SignalToDirectiveParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_short: bool = False
    default_confidence: float = 1.0


@register("signal_to_directive")
class SignalToDirective(StrategyPlanner):
    """Opens on a signal when flat; closes an opposite position on the opposite signal.

    With ``allow_short`` an opposite signal also opens the reverse position (CLOSE then NEW in
    one directive). Confidence is the strongest signal's, or ``default_confidence``.
    """

    Params = SignalToDirectiveParams

    def decide(self, decision: Decision) -> StrategyDirective | None:
        p: SignalToDirectiveParams = self.params
        if not decision.signals:
            return None
        signal = decision.signals[-1]
        ledger = decision.ctx.ledger
        open_plans = ledger.open_plans(decision.ctx.strategy_id, signal.symbol)
        wanted = (
            TradeDirection.LONG
            if signal.direction is SignalDirection.LONG
            else TradeDirection.SHORT
        )
        legs: list[LegDirective] = []
        for plan in open_plans:
            if plan.direction is not wanted:
                legs.append(
                    LegDirective(
                        scope=LegScope.CLOSE_EXISTING,
                        trade_plan_id=plan.trade_plan_id,
                        symbol=plan.symbol,
                    )
                )
        holds_wanted = any(plan.direction is wanted for plan in open_plans)
        if not holds_wanted and (wanted is TradeDirection.LONG or p.allow_short):
            side = Side.BUY if wanted is TradeDirection.LONG else Side.SELL
            legs.append(
                LegDirective(scope=LegScope.NEW_TRADE, symbol=signal.symbol, direction=side)
            )
        if not legs:
            return None
        confidences = [s.confidence for s in decision.signals if s.confidence is not None]
        confidence = max(confidences) if confidences else p.default_confidence
        return self.directive(decision, legs, confidence=confidence)
