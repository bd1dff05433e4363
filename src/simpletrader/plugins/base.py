"""One small base class per role. A plugin implements one method; the platform does the rest.

Each plugin declares a pydantic ``Params`` model (its blueprint ``params``); the instance gets
the validated params as ``self.params`` and its blueprint name as ``self.name``. A plugin may
also override :meth:`Plugin.setup`, called once at bootstrap when the data's bar length is known
(durations such as ``3 bars`` are converted there).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simpletrader.config.durations import parse_duration
from simpletrader.core.enums import (
    BatchExecutionMode,
    LegScope,
    Side,
    SignalDirection,
    TradeDirection,
)
from simpletrader.core.ids import ID_FORMATS, ORIGIN_PREFIXES, IdGenerator
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionDirective,
    ExecutionPlan,
    ExecutionPolicy,
    ExitDirective,
    ExitPlan,
    LegDirective,
    Risk,
    Signal,
    SizeDirective,
    SizePlan,
    StrategyDirective,
)
from simpletrader.dtos._base import KnownValid, Symbol
from simpletrader.dtos.detection import SignalType

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


class PluginParams(BaseModel):
    """The base of every built-in plugin's params: frozen, unknown keys refused, and the schema
    built when a blueprint first validates one (not at import)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class NoParams(PluginParams):
    """The params of a plugin that takes none."""


class PlanView(Protocol):
    """What planners may read of an open trade plan (``net`` is signed: long > 0)."""

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
    """The read-only account view risk monitors and planners get.

    ``equity()`` and ``peak_equity()`` are as of the last mark, i.e. the previous bar's close
    during a flow; :meth:`FlowContext.equity_now` marks at the current close.
    """

    @property
    def cash(self) -> Decimal: ...
    @property
    def positions(self) -> Mapping[str, Decimal]: ...
    def equity(self) -> float: ...
    def peak_equity(self) -> float: ...
    def net(self, symbol: str) -> Decimal: ...
    def open_plans(self, strategy_id: str, symbol: str | None = None) -> Sequence[PlanView]: ...
    def has_working_command(self, trade_plan_id: str) -> bool: ...


@dataclass(slots=True)
class FlowContext:
    """Everything a plugin may use during one flow; one per strategy, reused across bars.

    ``bar_seconds`` is the data's bar length (set at bootstrap); ``default_policy`` the
    blueprint's ``execution.policy`` with durations in seconds.
    """

    strategy_id: str
    cache: StrategyCache
    ledger: LedgerView
    ids: IdGenerator
    clock: Clock
    instruments: Mapping[str, Instrument]
    default_policy: ExecutionPolicy | None = None
    bar_seconds: int = 0

    @property
    def now(self) -> datetime:
        """The flow's time: the current bar's close."""
        return self.clock.now()

    def require_traded(self, symbols: Iterable[str], what: str) -> None:
        """Raise ``ValueError`` (a bootstrap ConfigError) for symbols the strategy doesn't trade."""
        unknown = [s for s in symbols if s not in self.cache.symbols]
        if unknown:
            raise ValueError(
                f"{what} {unknown} are not traded; known: {', '.join(self.cache.symbols)}"
            )

    def new_id(self, prefix: str) -> str:
        return self.ids.new(prefix, self.clock.now_ns())

    def multiplier(self, symbol: str) -> float:
        instrument = self.instruments.get(symbol)
        return float(instrument.multiplier) if instrument is not None else 1.0

    def equity_now(self) -> float:
        """Cash plus every position marked at the current bar's close (account currency)."""
        equity = float(self.ledger.cash)
        for symbol, net in self.ledger.positions.items():
            if net:
                equity += float(net) * self.cache.close(symbol) * self.multiplier(symbol)
        return equity

    def gross_exposure_now(self) -> float:
        """Sum of |position value| at the current bar's close (account currency)."""
        gross = 0.0
        for symbol, net in self.ledger.positions.items():
            if net:
                gross += abs(float(net) * self.cache.close(symbol) * self.multiplier(symbol))
        return gross


class Plugin(ABC):  # noqa: B024 - the role bases below declare the one abstract method
    role: ClassVar[str] = ""
    plugin_name: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        self.params: Any = params if params is not None else self.Params()
        self.name = name or self.plugin_name

    def setup(self, ctx: FlowContext) -> None:  # noqa: B027 - optional hook, empty by default
        """Called once at bootstrap, after wiring, with ``ctx.bar_seconds`` known.

        Raise ``ValueError`` for a params problem that only shows here; bootstrap reports it as
        a ``ConfigError`` naming the plugin.
        """


class ContextWorker(Plugin):
    """Turns bars into objective facts, vectorised over the whole history.

    The platform admits the result only after checking it causal (``f(x[:k]) == f(x)[:k]``
    for sampled k); each returned array becomes the fact ``"<name>.<key>"``, or ``"<name>"``
    for the key ``"value"``.
    """

    role = "context_worker"

    @abstractmethod
    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]: ...


# What the detection helpers below check before a trusted build (the rest of a Signal or Risk
# is a generated id): values are validated once, then known.
_SIGNAL_TYPES = KnownValid(SignalType)
_SYMBOLS = KnownValid(Symbol)
# Enum members read per order, bound once: Python 3.11's EnumType.__getattr__ makes
# `LegScope.NEW_TRADE` a slow metaclass lookup.
_NEW_TRADE, _CLOSE_EXISTING = LegScope.NEW_TRADE, LegScope.CLOSE_EXISTING


def known_symbol(value: object) -> bool:
    """Whether ``value`` is a str a ``Symbol`` field keeps as it is (validated once per value)."""
    return value in _SYMBOLS


def _unit(value: object) -> bool:
    """A float in [0, 1] (NaN is not), as a ``Unit`` field keeps it."""
    return type(value) is float and 0.0 <= value <= 1.0


def _utc(moment: object) -> bool:
    """A datetime in UTC, which a ``UtcDatetime`` field keeps as it is."""
    return type(moment) is datetime and moment.tzinfo is UTC


class SignalDetector(Plugin):
    """Reads facts on the current bar and reports opportunities."""

    role = "signal_detector"

    @abstractmethod
    def detect(self, ctx: FlowContext) -> Signal | Iterable[Signal] | None: ...

    def candidates(self, ctx: FlowContext) -> np.ndarray | None:
        """Optional vectorised pre-filter: a bool per bar, True wherever ``detect`` may fire.

        Computed once at bootstrap (``ctx.cache.whole_fact``); the engine then skips bars on
        which no detector can fire and nothing else is working, marking equity for them in one
        vectorised step. It must be causal and cover every bar ``detect`` fires on. None (the
        default) means every bar is a candidate.
        """
        return None

    def signal(
        self,
        ctx: FlowContext,
        direction: SignalDirection,
        signal_type: str,
        *,
        symbol: str | None = None,
        confidence: float | None = None,
    ) -> Signal:
        now = ctx.now
        symbol = symbol or ctx.cache.primary
        build = (
            Signal.trusted
            if direction.__class__ is SignalDirection
            and signal_type in _SIGNAL_TYPES
            and symbol in _SYMBOLS
            and (confidence is None or _unit(confidence))
            and _utc(now)
            else Signal
        )
        return build(
            signal_id=ctx.new_id("SIG"),
            timestamp=now,
            symbol=symbol,
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
        now = ctx.now
        build = (
            Risk.trusted
            if risk_type in _SIGNAL_TYPES
            and _unit(severity)
            and (symbol is None or symbol in _SYMBOLS)
            and _utc(now)
            else Risk
        )
        return build(
            risk_id=ctx.new_id("RSK"),
            timestamp=now,
            risk_type=risk_type,
            severity=severity,
            affected_symbol=symbol,
        )


@dataclass(slots=True)
class Decision:
    """What a strategy planner sees: the flow's signals and risks (the cache and ledger via ctx).

    ``triggers`` says why the planner runs: any of ``signal``, ``risk``, ``schedule``,
    ``position``.
    """

    ctx: FlowContext
    signals: tuple[Signal, ...]
    risks: tuple[Risk, ...]
    origin_id: str
    triggers: frozenset[str] = field(default_factory=frozenset)


class PolicyParams(PluginParams):
    """A batch policy in a blueprint: ``timeout`` is a duration (``30s``, ``2d``, ``3 bars``)."""

    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT
    timeout: int | str | None = None
    unwind_filled_legs: bool = False

    def resolve(self, bar_seconds: int) -> ExecutionPolicy:
        """The policy with the timeout in seconds (``ValueError`` names what is wrong)."""
        timeout = (
            parse_duration(self.timeout, bar_seconds or None) if self.timeout is not None else None
        )
        if self.unwind_filled_legs and self.mode is not BatchExecutionMode.COORDINATED:
            raise ValueError(
                f"policy.unwind_filled_legs is valid only with mode COORDINATED, not {self.mode}"
            )
        return ExecutionPolicy(
            mode=self.mode, timeout_seconds=timeout, unwind_filled_legs=self.unwind_filled_legs
        )


# A directive's own default sub-directives, so the defaults a planner passes on are those very
# objects: the journal leaves a default out after an identity test instead of a comparison.
_DIRECTIVE_FIELDS = StrategyDirective.model_fields


class PlannerParams(PluginParams):
    """Params every built-in strategy planner shares: its policy and sub-directives."""

    policy: PolicyParams | None = Field(
        default=None,
        description="batch policy of this planner's directives; none: the blueprint's "
        "execution.policy",
    )
    size_directive: SizeDirective = Field(
        default=_DIRECTIVE_FIELDS["size_directive"].default,
        description="aggressiveness, max_risk_amount, account_risk_pct",
    )
    exit_directive: ExitDirective = Field(
        default=_DIRECTIVE_FIELDS["exit_directive"].default,
        description="profit_taking_preference, risk_reward_ratio, stop_loss_tolerance",
    )
    routing_directive: ExecutionDirective = Field(
        default=_DIRECTIVE_FIELDS["routing_directive"].default,
        description="execution_urgency, visibility_preference, max_total_slippage_pct",
    )
    leg_slippage: Annotated[float | None, Field(ge=0.0)] = Field(
        default=None,
        description="max_acceptable_slippage of every leg, a fraction of the decision close "
        "(the plan's limit is the tighter of it and routing_directive.max_total_slippage_pct); "
        "none: the legs' default, 0.005. Orders sliced over several bars need more room",
    )


class StrategyPlanner(Plugin):
    """Exactly one per strategy: turns signals and risks into at most one directive.

    ``schedule`` (cron text, read once at bootstrap; default: a ``schedule`` param) and
    ``position_trigger`` make the platform also call it on a schedule and on every bar while
    the strategy holds a position.
    """

    role = "strategy_planner"

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self.policy: ExecutionPolicy | None = None
        self._defaults: _PlannerDefaults | None = None

    @property
    def position_trigger(self) -> bool:
        """Run on every bar while the strategy holds an open trade plan (read at bootstrap)."""
        return False

    @property
    def schedule(self) -> str | None:
        value = getattr(self.params, "schedule", None)
        return value if isinstance(value, str) else None

    def setup(self, ctx: FlowContext) -> None:
        """Resolve a ``policy`` param into ``self.policy`` (durations need the bar length)."""
        policy = getattr(self.params, "policy", None)
        if isinstance(policy, PolicyParams):
            self.policy = policy.resolve(ctx.bar_seconds)

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
        """Build the directive and start its causality chain.

        The policy is ``policy``, else the planner's ``policy`` param, else the blueprint's
        default. Sub-directives not passed in ``directives`` come from the ``size_directive``,
        ``exit_directive`` and ``routing_directive`` params when the planner has them.
        """
        ctx = decision.ctx
        directive_id = ctx.new_id("STR")
        defaults = self._defaults
        if defaults is None or defaults.params is not self.params:
            defaults = self._defaults = _PlannerDefaults(self.params)
        if directives:
            directives = {**defaults.directives, **directives}
            exact = _exact_directives(directives)
        else:
            directives, exact = defaults.directives, defaults.exact
        if policy is None:
            policy = self.policy if self.policy is not None else ctx.default_policy
        slippage = defaults.leg_slippage
        if slippage is not None:
            # Validated by the params model (>= 0), so a copy without re-validation is safe.
            legs = [leg.model_copy(update={"max_acceptable_slippage": slippage}) for leg in legs]
        now = ctx.now
        leg_tuple = tuple(legs)
        directive_type: Callable[..., StrategyDirective] = StrategyDirective
        chain_type: Callable[..., CausalityChain] = CausalityChain
        if exact and _trusted_directive(decision, ctx, now, confidence, leg_tuple, policy):
            directive_type, chain_type = StrategyDirective.trusted, CausalityChain.trusted
        risks = decision.risks
        return directive_type(
            directive_id=directive_id,
            strategy_id=ctx.strategy_id,
            decision_timestamp=now,
            causality=chain_type(
                origin_id=decision.origin_id,
                signal_ids=tuple([s.signal_id for s in decision.signals]),
                risk_ids=tuple([r.risk_id for r in risks]) if risks else (),
                directive_id=directive_id,
            ),
            confidence=confidence,
            legs=leg_tuple,
            execution_policy=policy,
            **directives,
        )


_SUB_DIRECTIVES: dict[str, type[BaseModel]] = {
    "size_directive": SizeDirective,
    "exit_directive": ExitDirective,
    "routing_directive": ExecutionDirective,
}


def _exact_directives(directives: Mapping[str, Any]) -> bool:
    """Whether every sub-directive is a validated DTO of its exact type."""
    return all(_SUB_DIRECTIVES.get(key) is value.__class__ for key, value in directives.items())


class _PlannerDefaults:
    """What a planner's directives take from its params: read once per params object, since
    every flow would otherwise look them up anew."""

    __slots__ = ("directives", "exact", "leg_slippage", "params")

    def __init__(self, params: Any) -> None:
        self.params = params
        self.directives: dict[str, Any] = {}
        for key in _SUB_DIRECTIVES:
            value = getattr(params, key, None)
            if value is not None:
                self.directives[key] = value
        self.exact = _exact_directives(self.directives)
        self.leg_slippage: float | None = getattr(params, "leg_slippage", None)


def _trusted_directive(
    decision: Decision,
    ctx: FlowContext,
    now: datetime,
    confidence: float,
    legs: tuple[LegDirective, ...],
    policy: ExecutionPolicy | None,
) -> bool:
    """Whether validating this directive (and its chain) would return its values unchanged:
    parts that are validated DTOs of their exact types (the sub-directives are checked by the
    caller), a float confidence in [0, 1], a UTC timestamp, a well-formed origin id. Anything
    else goes to the constructor, which coerces it or says what is wrong."""
    origin_id = decision.origin_id
    strategy_id = ctx.strategy_id
    origin = ctx.cache.origin
    if not (
        _unit(confidence)
        and _utc(now)
        and type(strategy_id) is str
        and 0 < len(strategy_id) <= 128
        and (policy is None or type(policy) is ExecutionPolicy)
        and legs
        and type(origin_id) is str
        # The flow's own origin was generated well-formed; any other id is checked.
        and (
            (origin is not None and origin_id is origin.id)
            or (origin_id[:3] in ORIGIN_PREFIXES and ID_FORMATS[origin_id[:3]].is_valid(origin_id))
        )
    ):
        return False
    # type(), not .__class__: the latter is one more slow model attribute read.
    for leg in legs:
        if type(leg) is not LegDirective:
            return False
    for signal in decision.signals:
        if type(signal) is not Signal:
            return False
    risks = decision.risks
    return not risks or all(type(risk) is Risk for risk in risks)


def _budget_leg(leg: LegDirective) -> bool:
    return leg.scope is _NEW_TRADE and leg.target_size is None and leg.target_weight is None


@dataclass(slots=True)
class LegContext:
    """One leg being planned: the directive, the leg, and the plans made so far.

    ``reference_price`` is the decision bar's close of the leg's symbol; ``direction`` the
    trade's (from the leg for NEW_TRADE, from ``plan`` for MODIFY/CLOSE); ``plan`` the open
    trade plan a MODIFY or CLOSE leg acts on.
    """

    ctx: FlowContext
    directive: StrategyDirective
    leg: LegDirective
    leg_index: int
    reference_price: Decimal
    direction: TradeDirection
    entry_plan: EntryPlan | None = None
    exit_plan: ExitPlan | None = None
    size_plan: SizePlan | None = None
    plan: PlanView | None = None

    @property
    def scope(self) -> LegScope:
        return self.leg.scope

    @property
    def symbol(self) -> str:
        return self.leg.symbol

    @property
    def instrument(self) -> Instrument | None:
        return self.ctx.instruments.get(self.leg.symbol)

    @property
    def max_slippage(self) -> float:
        """The tighter of the leg's and the directive's slippage limits (fraction of price)."""
        return min(
            self.directive.routing_directive.max_total_slippage_pct,
            self.leg.max_acceptable_slippage,
        )

    @property
    def budget_share(self) -> float:
        """This leg's share of the directive's budget: its ``size_weight`` over the sum of the
        weights of every leg sized from the budget (NEW_TRADE legs without a target); 1 for a
        leg with its own target."""
        legs = self.directive.legs
        if len(legs) == 1:
            return 1.0  # its own target, or its weight over itself: exactly 1 for any float > 0
        leg = self.leg
        if not _budget_leg(leg):
            return 1.0
        total = sum(other.size_weight for other in legs if _budget_leg(other))
        return leg.size_weight / total

    def round_price(self, price: Decimal) -> Decimal:
        """``price`` on the instrument's tick grid (unchanged for an unknown instrument)."""
        instrument = self.instrument
        return instrument.round_price(price) if instrument is not None else price

    def target_units(self, weight: float) -> Decimal:
        """Units worth ``weight`` of the current equity at the reference price (unfloored)."""
        price = float(self.reference_price) * self.ctx.multiplier(self.leg.symbol)
        units = weight * self.ctx.equity_now() / price if price > 0 else 0.0
        # Nothing to buy with a non-positive (or non-finite) equity.
        return Decimal(repr(units)) if 0.0 < units < float("inf") else Decimal(0)

    def order_side(self) -> Side:
        """The side of the order this leg sends: the entry side for NEW_TRADE, the side that
        moves the plan towards its target for MODIFY, the reducing side for CLOSE."""
        leg = self.leg
        scope = leg.scope
        if scope is _NEW_TRADE:
            assert leg.direction is not None
            return leg.direction
        reduce = self.direction.entry_side.opposite
        if scope is _CLOSE_EXISTING or self.plan is None:
            return reduce
        if leg.target_size is not None:
            target = leg.target_size
        elif leg.target_weight is not None:
            target = self.target_units(leg.target_weight)
        else:
            return reduce
        return self.direction.entry_side if target > abs(self.plan.net) else reduce

    def stop_distance(self) -> Decimal | None:
        """Price distance from entry to the planned stop (None without a stop)."""
        exit_plan = self.exit_plan
        if exit_plan is None or exit_plan.stop_loss is None:
            return None
        if exit_plan.as_offsets:
            return exit_plan.stop_loss
        anchor = (
            self.entry_plan.limit_price
            if self.entry_plan is not None and self.entry_plan.limit_price is not None
            else self.reference_price
        )
        return abs(anchor - exit_plan.stop_loss)

    def notional_estimate(self) -> float:
        """The leg's order value at the reference price, from its size plan (0 if unknown)."""
        size = self.size_plan
        price = float(self.reference_price) * self.ctx.multiplier(self.leg.symbol)
        if size is None:
            if self.leg.scope is _CLOSE_EXISTING and self.plan is not None:
                return abs(float(self.plan.net)) * price
            return 0.0
        if size.target_size is not None:
            units = float(size.target_size)
            if self.plan is not None:
                units = abs(units - abs(float(self.plan.net)))
            return units * price
        assert size.target_equity_fraction is not None
        return size.target_equity_fraction * self.ctx.equity_now()


class EntryPlanner(Plugin):
    role = "entry_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> EntryPlan: ...


class ExitPlanner(Plugin):
    """Plans protective levels. Raise ``PlanError`` to refuse a leg (it is journaled)."""

    role = "exit_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> ExitPlan | None: ...

    def trailing_plan(self, leg: LegContext) -> ExitPlan:
        """The exit plan of an exit-only MODIFY leg: a stop ``stop_loss_tolerance`` of the
        directive away from the reference price (that is how a position manager says where the
        stop goes), and the target kept.

        The stop never loosens: when the plan's current stop is already as tight, both levels
        are kept (an exit plan of Nones changes nothing).
        """
        tolerance = Decimal(repr(leg.directive.exit_directive.stop_loss_tolerance))
        long = leg.direction is TradeDirection.LONG
        factor = 1 - tolerance if long else 1 + tolerance
        stop = leg.round_price(leg.reference_price * factor)
        current = leg.plan.stop_loss if leg.plan is not None else None
        if current is not None and (stop <= current if long else stop >= current):
            return ExitPlan(plan_id=leg.ctx.new_id("EXT"))
        return ExitPlan(plan_id=leg.ctx.new_id("EXT"), stop_loss=stop)


class SizePlanner(Plugin):
    """Runs after entry and exit, so risk-based sizing can use the stop distance.

    Raise ``PlanError`` to refuse a leg (it is journaled as not planned).
    """

    role = "size_planner"

    @abstractmethod
    def plan(self, leg: LegContext) -> SizePlan: ...

    def leg_target(self, leg: LegContext) -> SizePlan | None:
        """The size plan a leg's own ``target_size``/``target_weight`` fixes (None if neither).

        A weight becomes an absolute size at the reference price, so MODIFY targets are
        absolute and a re-delivered directive changes nothing.
        """
        if leg.leg.target_size is not None:
            return SizePlan(plan_id=leg.ctx.new_id("SIZ"), target_size=leg.leg.target_size)
        if leg.leg.target_weight is not None:
            return SizePlan(
                plan_id=leg.ctx.new_id("SIZ"), target_size=leg.target_units(leg.leg.target_weight)
            )
        return None


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
