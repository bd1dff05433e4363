"""Built-in execution planners: how a leg reaches the market (algorithm, time in force)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from simpletrader.config.durations import parse_duration
from simpletrader.core.enums import ExecutionAlgorithm, TimeInForce
from simpletrader.dtos import ExecutionPlan
from simpletrader.plugins.base import ExecutionPlanner, FlowContext, LegContext, PluginParams
from simpletrader.plugins.registry import register

Unit = Annotated[float, Field(ge=0.0, le=1.0)]

# Bound once: Python 3.11's EnumType.__getattr__ makes `TimeInForce.GTC` a slow lookup per order.
_SINGLE, _GTC = ExecutionAlgorithm.SINGLE, TimeInForce.GTC


class SingleOrderParams(PluginParams):
    min_fill_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


@register("single_order")
class SingleOrder(ExecutionPlanner):
    """One order of the entry's type, good till cancelled."""

    Params = SingleOrderParams

    def plan(self, leg: LegContext) -> ExecutionPlan:
        routing = leg.directive.routing_directive
        # Urgency and visibility from the validated directive, a slippage limit that is the
        # smaller of two validated ones, a validated param: a SINGLE GTC plan passes its
        # validation unchanged.
        return ExecutionPlan.trusted(
            plan_id=leg.ctx.new_id("EXP"),
            algorithm=_SINGLE,
            execution_urgency=routing.execution_urgency,
            visibility_preference=routing.visibility_preference,
            max_slippage_pct=leg.max_slippage,
            time_in_force=_GTC,
            min_fill_ratio=self.params.min_fill_ratio,
        )


class AdaptiveParams(PluginParams):
    urgent_at: Unit = Field(
        default=0.8, description="urgency at or above which one order goes out (SINGLE)"
    )
    urgent_time_in_force: Literal["GTC", "IOC"] = Field(
        default="GTC", description="time in force of the urgent single order"
    )
    hidden_at: Unit = Field(
        default=0.3, description="visibility at or below which the order is an ICEBERG"
    )
    iceberg_slices: Annotated[int, Field(ge=2, le=1000)] = Field(
        default=5, description="an iceberg shows 1/slices of the size at a time"
    )
    patient_at: Unit = Field(
        default=0.3, description="urgency at or below which a large order is a TWAP"
    )
    large_notional: Annotated[float, Field(ge=0.0)] = Field(
        default=0.0, description="order value from which a patient order is sliced (0: any)"
    )
    twap_window: int | str = Field(
        default="5 bars", description="TWAP window: a duration such as '2h' or '5 bars'"
    )
    twap_slices: Annotated[int, Field(ge=2, le=10_000)] = 5
    min_fill_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


@register("adaptive")
class AdaptiveExecution(ExecutionPlanner):
    """Chooses SINGLE, ICEBERG or TWAP and the time in force from urgency and visibility.

    urgency >= urgent_at: SINGLE with urgent_time_in_force; else visibility <= hidden_at:
    ICEBERG; else urgency <= patient_at and value >= large_notional: TWAP over twap_window;
    else SINGLE GTC.
    """

    Params = AdaptiveParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self._window_seconds = 0

    def setup(self, ctx: FlowContext) -> None:
        try:
            self._window_seconds = parse_duration(self.params.twap_window, ctx.bar_seconds or None)
        except ValueError as exc:
            raise ValueError(f"twap_window: {exc}") from None

    def plan(self, leg: LegContext) -> ExecutionPlan:
        p: AdaptiveParams = self.params
        routing = leg.directive.routing_directive
        urgency, visibility = routing.execution_urgency, routing.visibility_preference
        algorithm = ExecutionAlgorithm.SINGLE
        tif = TimeInForce.GTC
        slices: int | None = None
        window: int | None = None
        if urgency >= p.urgent_at:
            tif = TimeInForce(p.urgent_time_in_force)
        elif visibility <= p.hidden_at:
            algorithm, slices = ExecutionAlgorithm.ICEBERG, p.iceberg_slices
        elif urgency <= p.patient_at and leg.notional_estimate() >= p.large_notional:
            algorithm, slices = ExecutionAlgorithm.TWAP, p.twap_slices
            window = self._window_seconds
        return ExecutionPlan(
            plan_id=leg.ctx.new_id("EXP"),
            algorithm=algorithm,
            execution_urgency=urgency,
            visibility_preference=visibility,
            max_slippage_pct=leg.max_slippage,
            time_in_force=tif,
            window_seconds=window,
            slice_count=slices,
            min_fill_ratio=p.min_fill_ratio,
        )
