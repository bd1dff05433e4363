"""The blueprint schema (DESIGN.md §7): data, workforce, execution, account and store."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simpletrader.core.enums import BatchExecutionMode


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Duration = int | str


class PluginSpec(_Config):
    """One plugin in the workforce: its registered name, instance name, params, confidence."""

    plugin: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    confidence: tuple[float, float] = (0.0, 1.0)

    @model_validator(mode="after")
    def _check_range(self) -> Self:
        lo, hi = self.confidence
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"confidence range [{lo}, {hi}) must satisfy 0 <= lo < hi <= 1")
        return self

    @property
    def instance_name(self) -> str:
        return self.name or self.plugin


class SymbolSpec(_Config):
    symbol: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    label: Literal["start", "end"] | None = None
    tick_size: Decimal | None = Field(default=None, gt=0)
    lot_size: Decimal | None = Field(default=None, gt=0)
    min_notional: Decimal | None = Field(default=None, ge=0)
    multiplier: Decimal | None = Field(default=None, gt=0)
    currency: str | None = None


class DataSpec(_Config):
    symbols: Annotated[tuple[SymbolSpec, ...], Field(min_length=1)]
    start: str | None = None
    end: str | None = None
    warmup_bars: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [s.symbol for s in self.symbols]
        if len(set(names)) != len(names):
            raise ValueError(f"symbols repeat: {names}")
        return self


class Workforce(_Config):
    context_worker: tuple[PluginSpec, ...] = ()
    signal_detector: tuple[PluginSpec, ...] = ()
    risk_monitor: tuple[PluginSpec, ...] = ()
    strategy_planner: PluginSpec
    entry_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="market_entry"),)
    exit_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="no_exit"),)
    size_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="equity_fraction"),)
    execution_planner: tuple[PluginSpec, ...] = (PluginSpec(plugin="single_order"),)


class CostsSpec(_Config):
    fee_bps: Decimal = Field(default=Decimal(0), ge=0)
    fee_per_unit: Decimal = Field(default=Decimal(0), ge=0)
    fee_minimum: Decimal = Field(default=Decimal(0), ge=0)
    spread_bps: Decimal = Field(default=Decimal(0), ge=0)
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0)


class VenueSpec(_Config):
    fill_on_close: bool = False
    latency: Duration = 0


class PolicySpec(_Config):
    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT
    timeout: Duration | None = None
    unwind_filled_legs: bool = False


class ExecutionSpec(_Config):
    venue: VenueSpec = VenueSpec()
    costs: CostsSpec = CostsSpec()
    policy: PolicySpec = PolicySpec()


class AccountSpec(_Config):
    starting_cash: Decimal = Field(default=Decimal(100_000), gt=0)
    currency: str = "USD"


class Blueprint(_Config):
    """A whole strategy: what data, which plugins, how orders are executed."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    seed: int = 0
    account: AccountSpec = AccountSpec()
    data: DataSpec
    workforce: Workforce
    execution: ExecutionSpec = ExecutionSpec()
