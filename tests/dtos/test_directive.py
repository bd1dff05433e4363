"""StrategyDirective, LegDirective and ExecutionPolicy rules (DESIGN.md §3.2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dto_examples import (
    causality_kwargs,
    directive_kwargs,
    field_error,
    leg_kwargs,
    make_id,
    modify_leg_kwargs,
)
from pydantic import ValidationError

from simpletrader.core.enums import BatchExecutionMode, LegScope
from simpletrader.dtos import (
    DEFAULT_POLICY,
    CausalityChain,
    ExecutionPolicy,
    ExitDirective,
    LegDirective,
    SizeDirective,
    StrategyDirective,
)

EXISTING_SCOPES = ["MODIFY_EXISTING", "CLOSE_EXISTING"]


def test_leg_new_trade_accepts_direction_without_trade_plan_id() -> None:
    leg = LegDirective(**leg_kwargs())
    assert leg.scope is LegScope.NEW_TRADE
    assert leg.trade_plan_id is None
    assert leg.size_weight == 1.0
    assert leg.timing_preference == 0.5
    assert leg.max_acceptable_slippage == 0.005


def test_leg_new_trade_rejects_trade_plan_id() -> None:
    with pytest.raises(ValidationError, match="trade_plan_id must be absent for scope NEW_TRADE"):
        LegDirective(**leg_kwargs(trade_plan_id=make_id("TPL")))


@pytest.mark.parametrize("scope", EXISTING_SCOPES)
def test_leg_existing_scope_accepts_trade_plan_id_without_direction(scope: str) -> None:
    leg = LegDirective(**modify_leg_kwargs(scope=scope))
    assert leg.trade_plan_id == make_id("TPL")
    assert leg.direction is None


@pytest.mark.parametrize("scope", EXISTING_SCOPES)
def test_leg_existing_scope_rejects_omitted_trade_plan_id(scope: str) -> None:
    kwargs = modify_leg_kwargs(scope=scope)
    del kwargs["trade_plan_id"]
    with pytest.raises(ValidationError, match=f"trade_plan_id is required for scope {scope}"):
        LegDirective(**kwargs)


@pytest.mark.parametrize("scope", EXISTING_SCOPES)
def test_leg_existing_scope_rejects_explicit_none_trade_plan_id(scope: str) -> None:
    with pytest.raises(ValidationError, match=f"trade_plan_id is required for scope {scope}"):
        LegDirective(**modify_leg_kwargs(scope=scope, trade_plan_id=None))


def test_leg_new_trade_requires_direction() -> None:
    kwargs = leg_kwargs()
    del kwargs["direction"]
    with pytest.raises(ValidationError, match=r"direction \(BUY or SELL\) is required .*NEW_TRADE"):
        LegDirective(**kwargs)


@pytest.mark.parametrize("scope", EXISTING_SCOPES)
def test_leg_existing_scope_rejects_direction(scope: str) -> None:
    with pytest.raises(ValidationError, match=f"direction must be absent for scope {scope}"):
        LegDirective(**modify_leg_kwargs(scope=scope, direction="SELL"))


def test_leg_rejects_both_target_size_and_target_weight() -> None:
    with pytest.raises(ValidationError, match="at most one of target_size and target_weight"):
        LegDirective(**leg_kwargs(target_size=Decimal(1), target_weight=0.5))


@pytest.mark.parametrize("target", [{"target_size": Decimal(3)}, {"target_weight": 0.25}, {}])
def test_leg_accepts_one_target_or_none(target: dict[str, object]) -> None:
    leg = LegDirective(**leg_kwargs(**target))
    assert (leg.target_size is None) or (leg.target_weight is None)


def test_leg_rejects_negative_target_size() -> None:
    with pytest.raises(
        ValidationError, match=field_error("target_size", "Input should be greater")
    ):
        LegDirective(**leg_kwargs(target_size=Decimal(-1)))


@pytest.mark.parametrize("target", [{"target_size": Decimal(2)}, {"target_weight": 0.5}])
def test_leg_close_rejects_non_zero_target(target: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="CLOSE_EXISTING targets 0"):
        LegDirective(**modify_leg_kwargs(scope="CLOSE_EXISTING", **target))


@pytest.mark.parametrize("target", [{"target_size": Decimal(0)}, {"target_size": "0.000"}, {}])
def test_leg_close_accepts_zero_or_unset_target(target: dict[str, object]) -> None:
    leg = LegDirective(**modify_leg_kwargs(scope="CLOSE_EXISTING", **target))
    assert leg.target_size in (None, 0)


def test_leg_rejects_price_zone_with_low_above_high() -> None:
    with pytest.raises(ValidationError, match="preferred_price_zone low 101 is above high 99"):
        LegDirective(**leg_kwargs(preferred_price_zone=(Decimal(101), Decimal(99))))


def test_leg_accepts_ordered_or_single_point_price_zone() -> None:
    assert LegDirective(**leg_kwargs(preferred_price_zone=("99", "101"))).preferred_price_zone == (
        Decimal(99),
        Decimal(101),
    )
    assert LegDirective(**leg_kwargs(preferred_price_zone=(100, 100))).preferred_price_zone == (
        Decimal(100),
        Decimal(100),
    )


def test_leg_rejects_non_positive_price_zone_bound() -> None:
    with pytest.raises(
        ValidationError, match=field_error("preferred_price_zone.0", "Input should be greater")
    ):
        LegDirective(**leg_kwargs(preferred_price_zone=(0, 1)))


@pytest.mark.parametrize("weight", [0.0, -0.5])
def test_leg_rejects_non_positive_size_weight(weight: float) -> None:
    with pytest.raises(
        ValidationError, match=field_error("size_weight", "Input should be greater than 0")
    ):
        LegDirective(**leg_kwargs(size_weight=weight))


@pytest.mark.parametrize(
    ("field", "value"), [("timing_preference", 1.5), ("max_acceptable_slippage", -0.1)]
)
def test_leg_rejects_entry_hint_out_of_range(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field_error(field, "Input should be")):
        LegDirective(**leg_kwargs(**{field: value}))


def test_policy_defaults_to_independent_without_timeout() -> None:
    policy = ExecutionPolicy()
    assert policy.mode is BatchExecutionMode.INDEPENDENT
    assert policy.timeout_seconds is None
    assert policy.unwind_filled_legs is False
    assert policy == DEFAULT_POLICY


@pytest.mark.parametrize("mode", ["INDEPENDENT", "SEQUENTIAL"])
def test_policy_rejects_unwind_without_coordinated_mode(mode: str) -> None:
    with pytest.raises(
        ValidationError, match=f"unwind_filled_legs is valid only with mode COORDINATED, not {mode}"
    ):
        ExecutionPolicy(mode=mode, unwind_filled_legs=True)


def test_policy_accepts_unwind_with_coordinated_mode() -> None:
    policy = ExecutionPolicy(mode="COORDINATED", timeout_seconds=30, unwind_filled_legs=True)
    assert policy.unwind_filled_legs
    assert policy.timeout_seconds == 30


@pytest.mark.parametrize("timeout", [0, -1, -30])
def test_policy_rejects_non_positive_timeout(timeout: int) -> None:
    with pytest.raises(
        ValidationError, match=field_error("timeout_seconds", "Input should be greater than 0")
    ):
        ExecutionPolicy(timeout_seconds=timeout)


def test_directive_without_policy_means_independent_without_timeout() -> None:
    directive = StrategyDirective(**directive_kwargs())
    assert directive.execution_policy is None
    assert directive.policy.mode is BatchExecutionMode.INDEPENDENT
    assert directive.policy.timeout_seconds is None
    assert directive.policy.unwind_filled_legs is False


def test_directive_policy_returns_the_given_policy() -> None:
    policy = ExecutionPolicy(mode="SEQUENTIAL", timeout_seconds=60)
    directive = StrategyDirective(**directive_kwargs(execution_policy=policy))
    assert directive.policy is policy


def test_directive_needs_at_least_one_leg() -> None:
    with pytest.raises(ValidationError, match=field_error("legs", "Tuple should have at least 1")):
        StrategyDirective(**directive_kwargs(legs=()))


def test_directive_may_mix_leg_scopes() -> None:
    legs = (
        LegDirective(**modify_leg_kwargs(scope="CLOSE_EXISTING")),
        LegDirective(**leg_kwargs(symbol="ETHUSDT")),
    )
    directive = StrategyDirective(
        **directive_kwargs(legs=legs, execution_policy=ExecutionPolicy(mode="SEQUENTIAL"))
    )
    assert [leg.scope for leg in directive.legs] == [LegScope.CLOSE_EXISTING, LegScope.NEW_TRADE]


def test_directive_rejects_causality_of_another_directive() -> None:
    causality = CausalityChain(**causality_kwargs(directive_id=make_id("STR", 99)))
    with pytest.raises(ValidationError, match=r"causality\.directive_id STR_\S+ is not STR_"):
        StrategyDirective(**directive_kwargs(causality=causality))


def test_directive_accepts_causality_naming_itself() -> None:
    causality = CausalityChain(**causality_kwargs(directive_id=make_id("STR")))
    assert StrategyDirective(**directive_kwargs(causality=causality)).causality == causality


@pytest.mark.parametrize("confidence", [-0.01, 1.01])
def test_directive_rejects_confidence_outside_unit_interval(confidence: float) -> None:
    with pytest.raises(ValidationError, match=field_error("confidence", "Input should be")):
        StrategyDirective(**directive_kwargs(confidence=confidence))


def test_sub_directives_have_design_defaults() -> None:
    size, exit_ = SizeDirective(), ExitDirective()
    assert (size.aggressiveness, size.max_risk_amount, size.account_risk_pct) == (0.5, None, 0.02)
    assert (exit_.profit_taking_preference, exit_.risk_reward_ratio) == (0.5, 2.0)
    assert exit_.stop_loss_tolerance == 0.02


def test_size_directive_rejects_non_positive_max_risk_amount() -> None:
    with pytest.raises(
        ValidationError, match=field_error("max_risk_amount", "Input should be greater than 0")
    ):
        SizeDirective(max_risk_amount=0)


def test_exit_directive_rejects_non_positive_risk_reward_ratio() -> None:
    with pytest.raises(
        ValidationError, match=field_error("risk_reward_ratio", "Input should be greater than 0")
    ):
        ExitDirective(risk_reward_ratio=0)
