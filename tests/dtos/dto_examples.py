"""Valid example DTOs for the contract tests: each builder takes overrides of its defaults.

Every builder returns a valid instance as is; a test changes one field to break one rule, so
the error it sees can only come from that rule.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from simpletrader.core.ids import ID_FORMATS
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionDirective,
    ExecutionGroup,
    ExecutionPlan,
    ExecutionPolicy,
    ExitDirective,
    ExitPlan,
    Fill,
    LegDirective,
    Order,
    Origin,
    Risk,
    Signal,
    SizeDirective,
    SizePlan,
    StrategyDirective,
    TradePlan,
)
from simpletrader.dtos._base import FrozenModel

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = datetime(2024, 1, 2, 3, 5, 0, tzinfo=UTC)


def make_id(prefix: str, n: int = 0) -> str:
    """A well-formed id of ``prefix``; ``n`` makes distinct ones."""
    return ID_FORMATS[prefix].format("20240102_030405", n)


def field_error(field: str, rule: str) -> str:
    """A regex for pydantic's text of a field-level error: the field, then the rule."""
    return rf"{re.escape(field)}\n\s+{rule}"


def origin_kwargs(**over: Any) -> dict[str, Any]:
    return {"id": make_id("TCK"), "type": "TICK", **over}


def signal_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "signal_id": make_id("SIG"),
        "timestamp": T0,
        "symbol": "BTCUSDT",
        "direction": "long",
        "signal_type": "BREAKOUT_UP",
        "confidence": 0.7,
        **over,
    }


def risk_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "risk_id": make_id("RSK"),
        "timestamp": T0,
        "risk_type": "VOLATILITY_SPIKE",
        "severity": 0.4,
        **over,
    }


def causality_kwargs(**over: Any) -> dict[str, Any]:
    return {"origin_id": make_id("TCK"), "signal_ids": (make_id("SIG"),), **over}


def leg_kwargs(**over: Any) -> dict[str, Any]:
    return {"scope": "NEW_TRADE", "symbol": "BTCUSDT", "direction": "BUY", **over}


def modify_leg_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "scope": "MODIFY_EXISTING",
        "symbol": "BTCUSDT",
        "trade_plan_id": make_id("TPL"),
        **over,
    }


def directive_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "directive_id": make_id("STR"),
        "strategy_id": "trend_follow",
        "decision_timestamp": T0,
        "causality": CausalityChain(**causality_kwargs()),
        "confidence": 0.8,
        "legs": (LegDirective(**leg_kwargs()),),
        **over,
    }


def entry_kwargs(**over: Any) -> dict[str, Any]:
    return {"plan_id": make_id("ENT"), "symbol": "BTCUSDT", "direction": "BUY", **over}


def size_kwargs(**over: Any) -> dict[str, Any]:
    return {"plan_id": make_id("SIZ"), "target_size": Decimal("1.5"), **over}


def exit_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "plan_id": make_id("EXT"),
        "stop_loss": Decimal(90),
        "take_profit": Decimal(120),
        **over,
    }


def execution_plan_kwargs(**over: Any) -> dict[str, Any]:
    return {"plan_id": make_id("EXP"), **over}


def command_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "command_id": make_id("EXC"),
        "causality": CausalityChain(**causality_kwargs()),
        "leg_index": 0,
        "scope": "NEW_TRADE",
        "entry_plan": EntryPlan(**entry_kwargs()),
        "size_plan": SizePlan(**size_kwargs()),
        **over,
    }


def batch_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "batch_id": make_id("BAT"),
        "directive_id": make_id("STR"),
        "commands": (ExecutionCommand(**command_kwargs()),),
        "created_at": T0,
        **over,
    }


def trade_plan_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "trade_plan_id": make_id("TPL"),
        "strategy_id": "trend_follow",
        "symbol": "BTCUSDT",
        "direction": "LONG",
        "created_at": T0,
        **over,
    }


def group_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "group_id": make_id("EXG"),
        "trade_plan_id": make_id("TPL"),
        "role": "ENTRY",
        "target_quantity": Decimal(2),
        "created_at": T0,
        "updated_at": T0,
        **over,
    }


def order_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "order_id": make_id("ORD"),
        "client_order_id": "EXC-0-1",
        "group_id": make_id("EXG"),
        "symbol": "BTCUSDT",
        "side": "BUY",
        "order_type": "MARKET",
        "quantity": Decimal(2),
        "created_at": T0,
        "updated_at": T0,
        **over,
    }


def fill_kwargs(**over: Any) -> dict[str, Any]:
    return {
        "fill_id": make_id("FIL"),
        "order_id": make_id("ORD"),
        "quantity": Decimal(1),
        "price": Decimal("100.5"),
        "liquidity": "TAKER",
        "executed_at": T0,
        **over,
    }


EXAMPLE_KWARGS: dict[type[FrozenModel], Any] = {
    Origin: origin_kwargs,
    Signal: signal_kwargs,
    Risk: risk_kwargs,
    CausalityChain: causality_kwargs,
    LegDirective: leg_kwargs,
    SizeDirective: dict,
    ExitDirective: dict,
    ExecutionDirective: dict,
    ExecutionPolicy: dict,
    StrategyDirective: directive_kwargs,
    EntryPlan: entry_kwargs,
    SizePlan: size_kwargs,
    ExitPlan: exit_kwargs,
    ExecutionPlan: execution_plan_kwargs,
    ExecutionCommand: command_kwargs,
    ExecutionCommandBatch: batch_kwargs,
    TradePlan: trade_plan_kwargs,
    ExecutionGroup: group_kwargs,
    Order: order_kwargs,
    Fill: fill_kwargs,
}
"""One valid-kwargs builder per DTO class of ``simpletrader.dtos``."""


def example(cls: type[FrozenModel], **over: Any) -> Any:
    """A valid instance of ``cls`` with ``over`` applied to its example kwargs."""
    return cls(**EXAMPLE_KWARGS[cls](**over))
