"""The blueprint schema (DESIGN.md §7): data, workforce, execution, account and store.

Every model is frozen and forbids unknown keys; :func:`simpletrader.config.load_blueprint`
turns a YAML file into a :class:`Blueprint` with ``file:line: field.path`` errors. Durations
keep the form they were written in (see :mod:`simpletrader.config.durations`); dates are kept
as ISO-8601 text, UTC when no zone is given. ``docs/blueprint.md`` has a full example.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from simpletrader.config.durations import Duration, Latency
from simpletrader.config.source import SourceMap
from simpletrader.core.enums import BatchExecutionMode
from simpletrader.core.errors import DataError


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


PLANNING_ROLES: tuple[str, ...] = (
    "entry_planner",
    "exit_planner",
    "size_planner",
    "execution_planner",
)

# The range every spec has unless given one; a dump of a blueprint writes it out explicitly,
# so only a different range on a role without ranges is an error.
FULL_RANGE = (0.0, 1.0)

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[Decimal, Field(ge=0)]
Positive = Annotated[Decimal, Field(gt=0)]


def _to_datetime(value: Any) -> datetime:
    """A date, datetime or ISO-8601 text as a tz-aware UTC datetime (no zone: UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO-8601 date or time; use e.g. 2020-01-31 or "
                f"2020-01-31T14:30:00Z"
            ) from None
    else:
        raise ValueError(f"{value!r} is not a date; use e.g. 2020-01-31 or 2020-01-31T14:30:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_iso(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            # A date stays a date: "2010-01-04", not midnight with a zone.
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    moment = _to_datetime(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return moment.date().isoformat()
    return moment.isoformat()


IsoTime = Annotated[str, BeforeValidator(_to_iso)]
"""A date or time, normalised to ISO-8601 text (UTC); YAML dates are accepted as written."""

UtcTime = Annotated[datetime, BeforeValidator(_to_datetime)]


class PluginSpec(_Config):
    """One plugin in the workforce: its registered name, instance name, params, confidence.

    ``name`` defaults to ``plugin``; a context worker's facts are named after it.
    ``confidence`` is the half-open range ``[lo, hi)`` (``hi = 1`` closed) of directive
    confidences a planner handles; only the planning roles take one. In YAML a bare string
    is shorthand for ``{plugin: <string>}``.
    """

    plugin: Annotated[str, Field(min_length=1)]
    name: Identifier | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    confidence: tuple[float, float] = FULL_RANGE

    _source: SourceMap | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"plugin": data}
        if isinstance(data, dict) and "params" in data and data["params"] is None:
            return {**data, "params": {}}
        return data

    @field_validator("confidence")
    @classmethod
    def _check_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        lo, hi = value
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(
                f"confidence range [{lo}, {hi}) must satisfy 0 <= lo < hi <= 1, e.g. [0.0, 0.5]"
            )
        return value

    @property
    def instance_name(self) -> str:
        return self.name or self.plugin

    @property
    def source_map(self) -> SourceMap | None:
        """Where this spec was read from (None when built in Python or a default)."""
        return self._source


def _one_planner(value: Any) -> Any:
    if isinstance(value, list | tuple):
        raise ValueError(
            f"a strategy has exactly one strategy_planner; write it as a mapping "
            f"(plugin: ..., params: ...), not a list of {len(value)}"
        )
    return value


class Workforce(_Config):
    """The plugins of one strategy, per role (DESIGN.md §2). Planning roles have defaults."""

    context_worker: tuple[PluginSpec, ...] = ()
    signal_detector: tuple[PluginSpec, ...] = ()
    risk_monitor: tuple[PluginSpec, ...] = ()
    strategy_planner: Annotated[PluginSpec, BeforeValidator(_one_planner)]
    entry_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="market_entry"),)
    exit_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="no_exit"),)
    size_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="equity_fraction"),)
    execution_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="single_order"),)

    @field_validator(*PLANNING_ROLES)
    @classmethod
    def _not_empty(cls, value: tuple[PluginSpec, ...]) -> tuple[PluginSpec, ...]:
        if not value:
            raise ValueError(
                "needs at least one plugin; leave the key out to use the default planner"
            )
        return value

    @field_validator("context_worker", "signal_detector", "risk_monitor")
    @classmethod
    def _no_confidence(cls, value: tuple[PluginSpec, ...]) -> tuple[PluginSpec, ...]:
        for i, spec in enumerate(value):
            if spec.confidence != FULL_RANGE:
                raise ValueError(
                    f"item {i} ({spec.instance_name}) has a confidence range, but only the "
                    f"planning roles ({', '.join(PLANNING_ROLES)}) are selected by confidence"
                )
        return value

    @field_validator("context_worker")
    @classmethod
    def _unique_names(cls, value: tuple[PluginSpec, ...]) -> tuple[PluginSpec, ...]:
        first: dict[str, int] = {}
        for i, spec in enumerate(value):
            j = first.setdefault(spec.instance_name, i)
            if j != i:
                raise ValueError(
                    f"items {j} and {i} are both named {spec.instance_name!r}; facts are named "
                    f"after their worker, so give each one a distinct 'name'"
                )
        return value

    @field_validator("strategy_planner")
    @classmethod
    def _planner_has_no_range(cls, value: PluginSpec) -> PluginSpec:
        if value.confidence != FULL_RANGE:
            raise ValueError(
                "the strategy planner sets a directive's confidence; it has no confidence range"
            )
        return value

    def specs(self) -> tuple[tuple[str, int | None, PluginSpec], ...]:
        """Every spec with its role and index (None for the strategy planner), in flow order."""
        found: list[tuple[str, int | None, PluginSpec]] = []
        for role in type(self).model_fields:
            value = getattr(self, role)
            if isinstance(value, PluginSpec):
                found.append((role, None, value))
            else:
                found.extend((role, i, spec) for i, spec in enumerate(value))
        return tuple(found)


class SymbolSpec(_Config):
    """One traded symbol: where its bars come from and overrides of its instrument grid.

    ``source`` is a bundled sample name (``GOOG_1d``) or a CSV / CSV.gz / Parquet path,
    relative to the blueprint's folder. ``label`` says whether the file's timestamps mark a
    bar's start (default) or its end. Unset grid fields keep the dataset's defaults.
    """

    symbol: Annotated[str, Field(min_length=1, pattern=r"^\S+$")]
    source: Annotated[str, Field(min_length=1)]
    label: Literal["start", "end"] | None = None
    tick_size: Positive | None = None
    lot_size: Positive | None = None
    min_notional: NonNegative | None = None
    multiplier: Positive | None = None
    currency: Annotated[str, Field(min_length=1)] | None = None


def _check_timeframe(value: str | None) -> str | None:
    if value is None:
        return None
    from simpletrader.data.resampling import parse_timeframe

    try:
        parse_timeframe(value)
    except DataError as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


class DataSpec(_Config):
    """Which bars the strategy sees.

    ``timeframe`` (``5m``, ``1h``, ``1d``, ``1w``) resamples the files to a coarser bar;
    ``start``/``end`` bound the run (inclusive; ISO dates, UTC when no zone is given);
    ``warmup_bars`` are bars before ``start`` that workers see but the strategy does not trade.
    """

    symbols: Annotated[tuple[SymbolSpec, ...], Field(min_length=1)]
    timeframe: Annotated[str | None, BeforeValidator(_check_timeframe)] = None
    start: IsoTime | None = None
    end: IsoTime | None = None
    warmup_bars: Annotated[int, Field(ge=0)] = 0

    @field_validator("symbols")
    @classmethod
    def _unique(cls, value: tuple[SymbolSpec, ...]) -> tuple[SymbolSpec, ...]:
        first: dict[str, int] = {}
        for i, spec in enumerate(value):
            j = first.setdefault(spec.symbol, i)
            if j != i:
                raise ValueError(f"symbol {spec.symbol!r} appears twice: items {j} and {i}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        start, end = self.start, self.end
        if start is not None and end is not None and _to_datetime(start) > _to_datetime(end):
            raise ValueError(f"start {start} is after end {end}")
        return self


class VenueSpec(_Config):
    """The simulated venue: when market orders fill and how much of a bar's volume they take.

    ``latency`` delays an order's eligibility; ``participation_cap`` (a fraction of the bar's
    volume per order per bar) is off when unset.
    """

    fill_on_close: bool = False
    latency: Latency = 0
    participation_cap: Annotated[float, Field(gt=0.0, le=1.0)] | None = None


class CostsSpec(_Config):
    """Trading costs: fees (bps of notional, per unit, with a minimum per fill), the quoted
    spread (half paid by market orders), slippage, and the yearly borrow rate on shorts,
    accrued daily."""

    fee_bps: NonNegative = Decimal(0)
    fee_per_unit: NonNegative = Decimal(0)
    fee_minimum: NonNegative = Decimal(0)
    spread_bps: NonNegative = Decimal(0)
    slippage_bps: NonNegative = Decimal(0)
    borrow_bps_per_year: NonNegative = Decimal(0)


class MarginSpec(_Config):
    """Margin checked at fill: equity must cover ``requirement`` x the notional of long
    positions and ``short_requirement`` (default: ``requirement``) x that of short ones.
    ``requirement: 1`` is a cash account; ``0.5`` allows 2x leverage."""

    requirement: Positive = Decimal(1)
    short_requirement: Positive | None = None


class RiskLimitsSpec(_Config):
    """Pre-trade risk checks (DESIGN.md §5); a violating order is rejected with the rule's name.

    Notionals are in the account currency; ``max_gross_exposure`` is a multiple of equity;
    ``kill_switch_drawdown`` is the fraction below peak equity at which new entries stop.
    Unset limits are off.
    """

    max_position_per_symbol: Positive | None = None
    max_gross_exposure: Positive | None = None
    max_order_notional: Positive | None = None
    kill_switch_drawdown: Annotated[float, Field(gt=0.0, le=1.0)] | None = None


class OutageWindow(_Config):
    """A period in which the venue is unreachable: ``start`` inclusive, ``end`` exclusive."""

    start: UtcTime
    end: UtcTime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start >= self.end:
            raise ValueError(
                f"outage start {self.start.isoformat()} is not before end {self.end.isoformat()}"
            )
        return self


class FaultsSpec(_Config):
    """Seeded fault injection in the simulated venue; all off by default."""

    reject_probability: Probability = 0.0
    partial_fill_probability: Probability = 0.0
    cancel_failure_probability: Probability = 0.0
    outages: tuple[OutageWindow, ...] = ()


class PolicySpec(_Config):
    """The default ``ExecutionPolicy`` of directives that carry none (DESIGN.md §3.2)."""

    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT
    timeout: Duration | None = None
    unwind_filled_legs: bool = False

    @model_validator(mode="after")
    def _unwind_needs_coordinated(self) -> Self:
        if self.unwind_filled_legs and self.mode is not BatchExecutionMode.COORDINATED:
            raise ValueError(
                f"unwind_filled_legs is only valid with mode COORDINATED (mode is {self.mode})"
            )
        return self


class ExecutionSpec(_Config):
    venue: VenueSpec = VenueSpec()
    costs: CostsSpec = CostsSpec()
    margin: MarginSpec = MarginSpec()
    risk_limits: RiskLimitsSpec = RiskLimitsSpec()
    faults: FaultsSpec = FaultsSpec()
    policy: PolicySpec = PolicySpec()


class AccountSpec(_Config):
    starting_cash: Positive = Decimal(100_000)
    currency: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$")] = "USD"


class StoreSpec(_Config):
    """Where a run is stored (SQLite file, relative to the blueprint's folder)."""

    path: Annotated[str, Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data


class Blueprint(_Config):
    """A whole strategy: what data, which plugins, how orders are executed, where runs go."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    seed: int = 0
    account: AccountSpec = AccountSpec()
    data: DataSpec
    workforce: Workforce
    execution: ExecutionSpec = ExecutionSpec()
    store: StoreSpec | None = None

    _source: SourceMap | None = PrivateAttr(default=None)

    @property
    def source_map(self) -> SourceMap | None:
        """The file and lines this blueprint was read from (None when built in Python)."""
        return self._source

    def attach_source(self, source: SourceMap) -> None:
        """Record where the blueprint (and each plugin spec written in it) came from.

        The loader calls this; defaults shared between blueprints are left untouched.
        """
        self._source = source
        for role, index, spec in self.workforce.specs():
            loc = ("workforce", role) if index is None else ("workforce", role, index)
            if source.has(loc):
                spec._source = source
