"""What happened and how it was read: origins, signals, risks, and the causality chain."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from simpletrader.core.enums import OriginType, SignalDirection
from simpletrader.core.ids import (
    BatchId,
    CommandId,
    DirectiveId,
    OriginId,
    PlanId,
    RiskId,
    SignalId,
)
from simpletrader.dtos._base import FrozenModel, Symbol, Unit, UtcDatetime

_ORIGIN_PREFIX = {OriginType.TICK: "TCK", OriginType.SCHEDULE: "SCH", OriginType.NEWS: "NWS"}


class Origin(FrozenModel):
    """What started a flow: a bar (tick), a schedule, or a news item."""

    id: OriginId
    type: OriginType

    @model_validator(mode="after")
    def _check_prefix(self) -> Self:
        expected = _ORIGIN_PREFIX[self.type]
        if not self.id.startswith(expected + "_"):
            raise ValueError(f"origin id {self.id!r} of type {self.type} must start {expected}_")
        return self


SignalType = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$", max_length=64)]


class Signal(FrozenModel):
    """An opportunity read from the facts; ``confidence`` None means the detector has no view."""

    signal_id: SignalId
    timestamp: UtcDatetime
    symbol: Symbol
    direction: SignalDirection
    signal_type: SignalType
    confidence: Unit | None = None


class Risk(FrozenModel):
    """A threat read from the facts; ``affected_symbol`` None means system-wide."""

    risk_id: RiskId
    timestamp: UtcDatetime
    risk_type: SignalType
    severity: Unit
    affected_symbol: Symbol | None = None


class CausalityChain(FrozenModel):
    """Ids only: the strategy planner starts it, aggregation extends it once per command."""

    origin_id: OriginId
    signal_ids: tuple[SignalId, ...] = ()
    risk_ids: tuple[RiskId, ...] = ()
    directive_id: DirectiveId | None = None
    plan_ids: tuple[PlanId, ...] = ()
    command_id: CommandId | None = None
    batch_id: BatchId | None = None
