"""The contracts every layer exchanges (DESIGN.md §3): frozen pydantic models, Decimal money."""

from simpletrader.dtos._base import decimal_of
from simpletrader.dtos.batch import ExecutionCommand, ExecutionCommandBatch
from simpletrader.dtos.detection import CausalityChain, Origin, Risk, Signal
from simpletrader.dtos.directive import (
    DEFAULT_POLICY,
    ExecutionDirective,
    ExecutionPolicy,
    ExitDirective,
    LegDirective,
    SizeDirective,
    StrategyDirective,
)
from simpletrader.dtos.plans import (
    EntryPlan,
    ExecutionPlan,
    ExitPlan,
    SizePlan,
    check_exit_levels,
    check_order_prices,
)
from simpletrader.dtos.state import ExecutionGroup, Fill, Order, TradePlan

__all__ = [
    "DEFAULT_POLICY",
    "CausalityChain",
    "EntryPlan",
    "ExecutionCommand",
    "ExecutionCommandBatch",
    "ExecutionDirective",
    "ExecutionGroup",
    "ExecutionPlan",
    "ExecutionPolicy",
    "ExitDirective",
    "ExitPlan",
    "Fill",
    "LegDirective",
    "Order",
    "Origin",
    "Risk",
    "Signal",
    "SizeDirective",
    "SizePlan",
    "StrategyDirective",
    "TradePlan",
    "check_exit_levels",
    "check_order_prices",
    "decimal_of",
]
