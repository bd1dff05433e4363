"""One small base class per role. A plugin implements one method; the platform does the rest.

Each plugin declares a pydantic ``Params`` model (its blueprint ``params``); the instance gets
the validated params as ``self.params`` and its blueprint name as ``self.name``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from simpletrader.core.enums import LegScope, SignalDirection, TradeDirection
from simpletrader.core.ids import IdGenerator
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionPlan,
    ExecutionPolicy,
    ExitPlan,
    LegDirective,
    Risk,
    Signal,
    SizePlan,
    StrategyDirective,
)

if TYPE_CHECKING:
    from simpletrader.core.cache import StrategyCache
    from simpletrader.core.clock import Clock
    from simpletrader.data.bars import Bars
    from simpletrader.data.instruments import Instrument

ROLES: tuple[str, ...] = (
    "context_worker",
    "signal_detector",
    "risk_monitor",
    "strategy_planner",
    "entry_planner",
    "exit_planner",
    "size_planner",
    "execution_planner",
)


class NoParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanView(Protocol):
    """What planners may read of an open trade plan."""

    @property
    def trade_plan_id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def direction(self) -> TradeDirection: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def average_price(self) -> Decimal: ...
    @property
    def stop_loss(self) -> Decimal | None: ...
    @property
    def take_profit(self) -> Decimal | None: ...


class LedgerView(Protocol):
    """The read-only account view risk monitors and planners get."""

    @property
    def cash(self) -> Decimal: ...
    def equity(self) -> float: ...
    def peak_equity(self) -> float: ...
    def net(self, symbol: str) -> Decimal: ...
    def open_plans(self, strategy_id: str, symbol: str | None = None) -> Sequence[PlanView]: ...
    def has_working_command(self, trade_plan_id: str) -> bool: ...


@dataclass(slots=True)
class FlowContext:
    """Everything a plugin may use during one flow; one per strategy, reused across bars."""

    strategy_id: str
    cache: StrategyCache
    ledger: LedgerView
    ids: IdGenerator
    clock: Clock
    instruments: Mapping[str, Instrument]
    default_policy: ExecutionPolicy | None = None

    @property
    def now(self) -> datetime:
        """The flow's time: the current bar's close."""
        return self.clock.now()

    def new_id(self, prefix: str) -> str:
        return self.ids.new(prefix, self.clock.now_ns())


class Plugin(ABC):  # noqa: B024 - the role bases below declare the one abstract method
    role: ClassVar[str] = ""
    plugin_name: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        self.params: Any = params if params is not None else self.Params()
        self.name = name or self.plugin_name


class ContextWorker(Plugin):
    """Turns bars into objective facts, vectorised over the whole history.

    The platform admits the result only after checking it causal (``f(x[:k]) == f(x)[:k]``
    for sampled k); each returned array becomes the fact ``"<name>.<key>"``, or ``"<name>"``
    for the key ``"value"``.
    """

    role = "context_worker"

    @abstractmethod
    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]: ...


class SignalDetector(Plugin):
    """Reads facts on the current bar and reports opportunities."""

    role = "signal_detector"

    @abstractmethod
    def detect(self, ctx: FlowContext) -> Signal | Iterable[Signal] | None: ...

    def signal(
        self,
        ctx: FlowContext,
        direction: SignalDirection,
        signal_type: str,
        *,
        symbol: str | None = None,
        confidence: float | None = None,
    ) -> Signal:
        return Signal(
            signal_id=ctx.new_id("SIG"),
            timestamp=ctx.now,
            symbol=symbol or ctx.cache.primary,
            direction=direction,
            signal_type=signal_type,
            confidence=confidence,
        )


class RiskMonitor(Plugin):
    """Reads facts and the account and reports threats."""

    role = "risk_monitor"

    @abstractmethod
    def assess(self, ctx: FlowContext) -> Risk | Iterable[Risk] | None: ...

    def risk(
        self, ctx: FlowContext, risk_type: str, severity: float, *, symbol: str | None = None
    ) -> Risk:
        return Risk(
            risk_id=ctx.new_id("RSK"),
            timestamp=ctx.now,
            risk_type=risk_type,
            severity=severity,
            affected_symbol=symbol,
        )


@dataclass(slots=True)
class Decision:
    """What a strategy planner sees: the flow's signals and risks (the cache and ledger via ctx)."""

    ctx: FlowContext
    signals: tuple[Signal, ...]
    risks: tuple[Risk, ...]
    origin_id: str
    triggers: frozenset[str] = field(default_factory=frozenset)


class StrategyPlanner(Plugin):
    """Exactly one per strategy: turns signals and risks into at most one directive.

    ``schedule`` (cron text) and ``position_trigger`` make the platform also call it on a
    schedule and on every bar while the strategy holds a position.
    """

    role = "strategy_planner"
    position_trigger: ClassVar[bool] = False

    @property
    def schedule(self) -> str | None:
        return None

    @abstractmethod
    def decide(self, decision: Decision) -> StrategyDirective | None: ...

    def directive(
        self,
        decision: Decision,
        legs: Sequence[LegDirective],
        *,
        confidence: float = 1.0,
        policy: ExecutionPolicy | None = None,
        **directives: Any,
    ) -> StrategyDirective:
        """Build the directive; the blueprint's default policy fills in a missing one."""
        ctx = decision.ctx
        directive_id = ctx.new_id("STR")
        return StrategyDirective(
            directive_id=directive_id,
            strategy_id=ctx.strategy_id,
            decision_timestamp=ctx.now,
            causality=CausalityChain(
                origin_id=decision.origin_id,
                signal_ids=tuple(s.signal_id for s in decision.signals),
                risk_ids=tuple(r.risk_id for r in decision.risks),
                directive_id=directive_id,
            ),
            confidence=confidence,
            legs=tuple(legs),
            execution_policy=policy if policy is not None else ctx.default_policy,
            **directives,
        )


@dataclass(slots=True)
class LegContext:
    """One leg being planned: the directive, the leg, and the plans made so far."""

    ctx: FlowContext
    directive: StrategyDirective
    leg: LegDirective
    leg_index: int
    reference_price: Decimal
    direction: TradeDirection
    entry_plan: EntryPlan | None = None
    exit_plan: ExitPlan | None = None
    size_plan: SizePlan | None = None

    @property
    def scope(self) -> LegScope:
        return self.leg.scope


class EntryPlanner(Plugin):
    role = "entry_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> EntryPlan: ...


class ExitPlanner(Plugin):
    role = "exit_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> ExitPlan | None: ...


class SizePlanner(Plugin):
    """Runs after entry and exit, so risk-based sizing can use the stop distance."""

    role = "size_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> SizePlan: ...


class ExecutionPlanner(Plugin):
    role = "execution_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> ExecutionPlan: ...


ROLE_BASES: dict[str, type[Plugin]] = {
    cls.role: cls
    for cls in (
        ContextWorker,
        SignalDetector,
        RiskMonitor,
        StrategyPlanner,
        EntryPlanner,
        ExitPlanner,
        SizePlanner,
        ExecutionPlanner,
    )
}
