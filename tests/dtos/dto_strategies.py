"""Hypothesis strategies that build valid DTOs of every class in ``simpletrader.dtos``.

Random Decimals of any scale, timestamps in any time-zone offset (fixed or IANA) between 1970
and 2100, and optional fields that are sometimes set, sometimes None, sometimes omitted.
"""

from __future__ import annotations

import functools
import string
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from simpletrader.core.enums import (
    BatchExecutionMode,
    ExecutionAlgorithm,
    GroupStatus,
    LegScope,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradePlanStatus,
)
from simpletrader.core.ids import ID_FORMATS, stamp_of
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

Draw = Any

time_zones: st.SearchStrategy[tzinfo] = st.one_of(
    st.just(UTC),
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ).map(timezone),
    st.timezones(),
)
utc_instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
)


def _in_random_zone(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone)


timestamps = st.builds(_in_random_zone, utc_instants, time_zones)
"""A tz-aware timestamp in a random zone (the DTO is expected to turn it to UTC)."""

_SECONDS_1970_2100 = st.integers(0, 4_102_444_799)


@functools.cache
def ids(prefix: str) -> st.SearchStrategy[str]:
    fmt = ID_FORMATS[prefix]
    return st.builds(
        lambda seconds, bits: fmt.format(stamp_of(seconds * 1_000_000_000), bits),
        _SECONDS_1970_2100,
        st.integers(0, 2**32 - 1),
    )


@functools.cache
def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _money(low: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False
    )


positive_money = _money("1e-12")
non_negative_money = _money("0")
units = st.floats(0.0, 1.0)
non_negative_floats = st.floats(0.0, 1e6)
positive_floats = st.floats(0.0, 1e6, exclude_min=True)
symbols = st.text(string.ascii_letters + string.digits + "._:/-", min_size=1, max_size=64)
_UPPER = string.ascii_uppercase + string.digits
signal_types = st.builds(
    lambda head, rest, words: "_".join((head + rest, *words)),
    st.sampled_from(string.ascii_uppercase),
    st.text(_UPPER, max_size=9),
    st.lists(st.text(_UPPER, min_size=1, max_size=5), max_size=5),
)
names = st.text(min_size=1, max_size=30)
sides = st.sampled_from(["BUY", "SELL"])
origin_ids = st.sampled_from(["TCK", "SCH", "NWS"]).flatmap(ids)
plan_ids = st.sampled_from(["ENT", "SIZ", "EXT", "EXP"]).flatmap(ids)
timeouts = optional(st.integers(1, 10**9))
windows = st.integers(1, 10**6)


def fields(required: dict[str, Any], maybe: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword dicts: every ``required`` key, and any subset of the ``maybe`` ones."""
    return st.fixed_dictionaries(required, optional=maybe)


def model(cls: type, required: dict[str, Any], maybe: dict[str, Any]) -> st.SearchStrategy[Any]:
    """``cls`` built from ``required`` fields and any subset of the ``maybe`` ones."""
    return fields(required, maybe).map(lambda kw: cls(**kw))


origins = st.sampled_from([("TICK", "TCK"), ("SCHEDULE", "SCH"), ("NEWS", "NWS")]).flatmap(
    lambda kind: ids(kind[1]).map(lambda origin_id: Origin(id=origin_id, type=kind[0]))
)
signals = model(
    Signal,
    {
        "signal_id": ids("SIG"),
        "timestamp": timestamps,
        "symbol": symbols,
        "direction": st.sampled_from(["long", "short"]),
        "signal_type": signal_types,
    },
    {"confidence": optional(units)},
)
risks = model(
    Risk,
    {"risk_id": ids("RSK"), "timestamp": timestamps, "risk_type": signal_types, "severity": units},
    {"affected_symbol": optional(symbols)},
)
_causality_fields = fields(
    {"origin_id": origin_ids},
    {
        "signal_ids": st.lists(ids("SIG"), max_size=3).map(tuple),
        "risk_ids": st.lists(ids("RSK"), max_size=2).map(tuple),
        "directive_id": optional(ids("STR")),
        "plan_ids": st.lists(plan_ids, max_size=4).map(tuple),
        "command_id": optional(ids("EXC")),
        "batch_id": optional(ids("BAT")),
    },
)
causalities = _causality_fields.map(lambda kw: CausalityChain(**kw))


@st.composite
def _causality_of(draw: Draw, field: str, own_id: str) -> CausalityChain:
    """A chain whose ``field`` (directive_id or command_id) is unset or ``own_id``."""
    kwargs = draw(_causality_fields)
    kwargs[field] = own_id if draw(st.booleans()) else None
    return CausalityChain(**kwargs)


_price_zones = st.tuples(positive_money, positive_money).map(lambda pair: tuple(sorted(pair)))
_leg_hints = fields(
    {},
    {
        "size_weight": positive_floats,
        "timing_preference": units,
        "preferred_price_zone": optional(_price_zones),
        "max_acceptable_slippage": non_negative_floats,
    },
)
_open_targets = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"target_size": non_negative_money}),
    st.fixed_dictionaries({"target_weight": units}),
)
_close_targets = st.sampled_from([{}, {"target_size": Decimal(0)}, {"target_size": None}])


@st.composite
def _legs(draw: Draw) -> LegDirective:
    scope = draw(st.sampled_from(LegScope))
    kwargs: dict[str, Any] = {"scope": scope, "symbol": draw(symbols)}
    if scope is LegScope.NEW_TRADE:
        kwargs["direction"] = draw(sides)
    else:
        kwargs["trade_plan_id"] = draw(ids("TPL"))
    kwargs |= draw(_close_targets if scope is LegScope.CLOSE_EXISTING else _open_targets)
    kwargs |= draw(_leg_hints)
    return LegDirective(**kwargs)


legs = _legs()
size_directives = model(
    SizeDirective,
    {},
    {
        "aggressiveness": units,
        "max_risk_amount": optional(positive_money),
        "account_risk_pct": units,
    },
)
exit_directives = model(
    ExitDirective,
    {},
    {
        "profit_taking_preference": units,
        "risk_reward_ratio": positive_floats,
        "stop_loss_tolerance": non_negative_floats,
    },
)
execution_directives = model(
    ExecutionDirective,
    {},
    {
        "execution_urgency": units,
        "visibility_preference": units,
        "max_total_slippage_pct": non_negative_floats,
    },
)


@st.composite
def _policies(draw: Draw) -> ExecutionPolicy:
    mode = draw(st.sampled_from(BatchExecutionMode))
    kwargs = draw(fields({}, {"timeout_seconds": timeouts}))
    if mode is BatchExecutionMode.COORDINATED:
        kwargs["unwind_filled_legs"] = draw(st.booleans())
    return ExecutionPolicy(mode=mode, **kwargs)


policies = _policies()
_directive_fields = fields(
    {
        "strategy_id": names,
        "decision_timestamp": timestamps,
        "confidence": units,
        "legs": st.lists(legs, min_size=1, max_size=3).map(tuple),
    },
    {
        "size_directive": size_directives,
        "exit_directive": exit_directives,
        "routing_directive": execution_directives,
        "execution_policy": optional(policies),
    },
)


@st.composite
def _directives(draw: Draw) -> StrategyDirective:
    directive_id = draw(ids("STR"))
    causality = draw(_causality_of("directive_id", directive_id))
    return StrategyDirective(
        directive_id=directive_id, causality=causality, **draw(_directive_fields)
    )


directives = _directives()


@st.composite
def _order_prices(draw: Draw) -> dict[str, Any]:
    order_type = draw(st.sampled_from(OrderType))
    prices: dict[str, Any] = {"order_type": order_type}
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        prices["limit_price"] = draw(positive_money)
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        prices["stop_price"] = draw(positive_money)
    return prices


order_prices = _order_prices()
entry_plans = st.builds(
    lambda kw, prices: EntryPlan(**kw, **prices),
    fields({"plan_id": ids("ENT"), "symbol": symbols, "direction": sides}, {}),
    order_prices,
)
size_plans = st.builds(
    lambda target, extra, plan_id: SizePlan(plan_id=plan_id, **target, **extra),
    st.one_of(
        st.fixed_dictionaries({"target_size": non_negative_money}),
        st.fixed_dictionaries({"target_equity_fraction": st.floats(0, 1, exclude_min=True)}),
    ),
    fields({}, {"risk_amount": non_negative_money, "leverage": st.floats(1, 100)}),
    ids("SIZ"),
)
exit_plans = model(
    ExitPlan,
    {"plan_id": ids("EXT")},
    {
        "stop_loss": optional(positive_money),
        "take_profit": optional(positive_money),
        "as_offsets": st.booleans(),
    },
)
time_in_force = st.one_of(
    st.just({}),
    st.sampled_from([{"time_in_force": t} for t in TimeInForce if t is not TimeInForce.GTD]),
    st.fixed_dictionaries({"time_in_force": st.just(TimeInForce.GTD), "expire_at": timestamps}),
)
_single = fields(
    {}, {"slice_count": st.sampled_from([None, 1]), "window_seconds": optional(windows)}
)
_twap = st.fixed_dictionaries({"slice_count": st.integers(2, 1000), "window_seconds": windows})
_iceberg = fields({"slice_count": st.integers(2, 1000)}, {"window_seconds": optional(windows)})
_algorithms = st.one_of(
    _single.map(lambda kw: {"algorithm": ExecutionAlgorithm.SINGLE, **kw}),
    st.just({}),
    _twap.map(lambda kw: {"algorithm": ExecutionAlgorithm.TWAP, **kw}),
    _iceberg.map(lambda kw: {"algorithm": ExecutionAlgorithm.ICEBERG, **kw}),
)
execution_plans = st.builds(
    lambda plan_id, algorithm, tif, rest: ExecutionPlan(
        plan_id=plan_id, **algorithm, **tif, **rest
    ),
    ids("EXP"),
    _algorithms,
    time_in_force,
    fields(
        {},
        {
            "execution_urgency": units,
            "visibility_preference": units,
            "max_slippage_pct": non_negative_floats,
            "min_fill_ratio": st.floats(0, 1, exclude_min=True),
        },
    ),
)
_plans = st.fixed_dictionaries(
    {
        "entry_plan": optional(entry_plans),
        "size_plan": optional(size_plans),
        "exit_plan": optional(exit_plans),
        "execution_plan": optional(execution_plans),
    }
)


@st.composite
def _commands(draw: Draw) -> ExecutionCommand:
    command_id = draw(ids("EXC"))
    scope = draw(st.sampled_from(LegScope))
    plans = draw(_plans)
    if not any(plans.values()):
        plans["exit_plan"] = draw(exit_plans)
    return ExecutionCommand(
        command_id=command_id,
        causality=draw(_causality_of("command_id", command_id)),
        leg_index=draw(st.integers(0, 50)),
        scope=scope,
        trade_plan_id=None if scope is LegScope.NEW_TRADE else draw(ids("TPL")),
        **plans,
    )


commands = _commands()
batches = st.builds(
    lambda batch_id, directive_id, cmds, policy, created_at: ExecutionCommandBatch(
        batch_id=batch_id,
        directive_id=directive_id,
        commands=tuple(cmds),
        mode=policy.mode,
        timeout_seconds=policy.timeout_seconds,
        unwind_filled_legs=policy.unwind_filled_legs,
        created_at=created_at,
    ),
    ids("BAT"),
    ids("STR"),
    st.lists(commands, min_size=1, max_size=3, unique_by=lambda c: c.command_id),
    policies,
    timestamps,
)


@st.composite
def _trade_plans(draw: Draw) -> TradePlan:
    created_at = draw(timestamps)
    status = draw(st.sampled_from(TradePlanStatus))
    closed_at = None
    if status is TradePlanStatus.CLOSED:
        closed_at = max(draw(utc_instants), created_at).astimezone(draw(time_zones))
    return TradePlan(
        trade_plan_id=draw(ids("TPL")),
        strategy_id=draw(names),
        symbol=draw(symbols),
        direction=draw(st.sampled_from(["LONG", "SHORT"])),
        status=status,
        created_at=created_at,
        closed_at=closed_at,
    )


trade_plans = _trade_plans()


@st.composite
def _groups(draw: Draw) -> ExecutionGroup:
    status = draw(st.sampled_from(GroupStatus))
    reason = draw(optional(names)) if status is GroupStatus.FAILED else None
    return ExecutionGroup(
        group_id=draw(ids("EXG")),
        trade_plan_id=draw(ids("TPL")),
        command_id=draw(optional(ids("EXC"))),
        batch_id=draw(optional(ids("BAT"))),
        role=draw(st.sampled_from(["ENTRY", "PROTECTIVE", "UNWIND"])),
        algorithm=draw(st.sampled_from(ExecutionAlgorithm)),
        target_quantity=draw(non_negative_money),
        status=status,
        failure_reason=reason,
        created_at=draw(timestamps),
        updated_at=draw(timestamps),
    )


groups = _groups()
orders = st.builds(
    lambda kw, prices, tif: Order(**kw, **prices, **tif),
    fields(
        {
            "order_id": ids("ORD"),
            "client_order_id": st.text(min_size=1, max_size=64),
            "group_id": ids("EXG"),
            "symbol": symbols,
            "side": sides,
            "quantity": positive_money,
            "created_at": timestamps,
            "updated_at": timestamps,
        },
        {
            "reduce_only": st.booleans(),
            "status": st.sampled_from(OrderStatus),
            "status_reason": optional(names),
        },
    ),
    order_prices,
    time_in_force,
)
fills = model(
    Fill,
    {
        "fill_id": ids("FIL"),
        "order_id": ids("ORD"),
        "quantity": positive_money,
        "price": positive_money,
        "liquidity": st.sampled_from(["MAKER", "TAKER"]),
        "executed_at": timestamps,
    },
    {"fee": non_negative_money, "fee_asset": st.text(min_size=1, max_size=16)},
)

DTO_STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    Origin: origins,
    Signal: signals,
    Risk: risks,
    CausalityChain: causalities,
    LegDirective: legs,
    SizeDirective: size_directives,
    ExitDirective: exit_directives,
    ExecutionDirective: execution_directives,
    ExecutionPolicy: policies,
    StrategyDirective: directives,
    EntryPlan: entry_plans,
    SizePlan: size_plans,
    ExitPlan: exit_plans,
    ExecutionPlan: execution_plans,
    ExecutionCommand: commands,
    ExecutionCommandBatch: batches,
    TradePlan: trade_plans,
    ExecutionGroup: groups,
    Order: orders,
    Fill: fills,
}
"""One strategy of valid instances per DTO class."""
