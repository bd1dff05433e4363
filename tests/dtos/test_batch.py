"""ExecutionCommand and ExecutionCommandBatch rules (DESIGN.md §3.4)."""

from __future__ import annotations

import pytest
from dto_examples import (
    batch_kwargs,
    causality_kwargs,
    command_kwargs,
    exit_kwargs,
    field_error,
    make_id,
)
from pydantic import ValidationError

from simpletrader.core.enums import BatchExecutionMode
from simpletrader.dtos import CausalityChain, ExecutionCommand, ExecutionCommandBatch, ExitPlan

PLAN_FIELDS = ["entry_plan", "size_plan", "exit_plan", "execution_plan"]


def command(n: int = 0, **over: object) -> ExecutionCommand:
    return ExecutionCommand(**command_kwargs(command_id=make_id("EXC", n), **over))


def test_command_needs_at_least_one_plan() -> None:
    with pytest.raises(ValidationError, match="a command needs at least one plan"):
        ExecutionCommand(**command_kwargs(entry_plan=None, size_plan=None))


def test_command_with_only_an_exit_plan_is_valid() -> None:
    only_exit = dict.fromkeys(PLAN_FIELDS) | {"exit_plan": ExitPlan(**exit_kwargs())}
    made = ExecutionCommand(
        **command_kwargs(scope="MODIFY_EXISTING", trade_plan_id=make_id("TPL"), **only_exit)
    )
    assert made.entry_plan is None
    assert made.exit_plan is not None


def test_new_trade_command_rejects_trade_plan_id() -> None:
    with pytest.raises(ValidationError, match=r"trade_plan_id must be absent for NEW_TRADE.*"):
        command(trade_plan_id=make_id("TPL"))


@pytest.mark.parametrize("scope", ["MODIFY_EXISTING", "CLOSE_EXISTING"])
def test_existing_scope_command_requires_trade_plan_id(scope: str) -> None:
    with pytest.raises(ValidationError, match=rf"present for .*\(scope {scope}\)"):
        command(scope=scope)


@pytest.mark.parametrize("scope", ["MODIFY_EXISTING", "CLOSE_EXISTING"])
def test_existing_scope_command_with_trade_plan_id_is_valid(scope: str) -> None:
    assert command(scope=scope, trade_plan_id=make_id("TPL")).trade_plan_id == make_id("TPL")


def test_command_rejects_causality_of_another_command() -> None:
    causality = CausalityChain(**causality_kwargs(command_id=make_id("EXC", 7)))
    with pytest.raises(ValidationError, match=r"causality\.command_id EXC_\S+ is not EXC_"):
        command(causality=causality)


def test_command_rejects_negative_leg_index() -> None:
    with pytest.raises(ValidationError, match=field_error("leg_index", "Input should be greater")):
        command(leg_index=-1)


def test_batch_defaults_to_independent_without_timeout_or_unwind() -> None:
    batch = ExecutionCommandBatch(**batch_kwargs())
    assert batch.mode is BatchExecutionMode.INDEPENDENT
    assert batch.timeout_seconds is None
    assert batch.unwind_filled_legs is False


def test_batch_needs_at_least_one_command() -> None:
    with pytest.raises(
        ValidationError, match=field_error("commands", "Tuple should have at least 1")
    ):
        ExecutionCommandBatch(**batch_kwargs(commands=()))


def test_batch_rejects_repeated_command_ids() -> None:
    commands = (command(1), command(2), command(1))
    with pytest.raises(
        ValidationError,
        match=rf"command ids must be unique in a batch; repeated: \['{make_id('EXC', 1)}'\]",
    ):
        ExecutionCommandBatch(**batch_kwargs(commands=commands))


def test_batch_with_distinct_command_ids_is_valid() -> None:
    commands = (command(1), command(2, leg_index=1))
    assert len(ExecutionCommandBatch(**batch_kwargs(commands=commands)).commands) == 2


@pytest.mark.parametrize("mode", ["INDEPENDENT", "SEQUENTIAL"])
def test_batch_rejects_unwind_without_coordinated_mode(mode: str) -> None:
    with pytest.raises(
        ValidationError, match=f"unwind_filled_legs is valid only with mode COORDINATED, not {mode}"
    ):
        ExecutionCommandBatch(**batch_kwargs(mode=mode, unwind_filled_legs=True))


def test_batch_accepts_unwind_with_coordinated_mode() -> None:
    batch = ExecutionCommandBatch(
        **batch_kwargs(mode="COORDINATED", timeout_seconds=30, unwind_filled_legs=True)
    )
    assert batch.unwind_filled_legs
    assert batch.timeout_seconds == 30


@pytest.mark.parametrize("timeout", [0, -1])
def test_batch_rejects_non_positive_timeout(timeout: int) -> None:
    with pytest.raises(
        ValidationError, match=field_error("timeout_seconds", "Input should be greater than 0")
    ):
        ExecutionCommandBatch(**batch_kwargs(timeout_seconds=timeout))


def test_batch_rejects_a_directive_id_of_another_kind() -> None:
    with pytest.raises(ValidationError, match=field_error("directive_id", "String should match")):
        ExecutionCommandBatch(**batch_kwargs(directive_id=make_id("BAT")))
