"""Wiring the execution side of a backtest from its blueprint: venue, costs, margin, faults,
risk limits, policy defaults and the worker."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simpletrader.config.blueprint import Blueprint, ExecutionSpec
from simpletrader.config.durations import parse_duration
from simpletrader.core.clock import Clock, datetime_to_ns
from simpletrader.core.errors import ConfigError
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator
from simpletrader.data import Bars, Instrument
from simpletrader.dtos import ExecutionPolicy
from simpletrader.execution.connectors.simulated import (
    CostModel,
    MarginModel,
    SimulatedVenue,
    VenueConfig,
)
from simpletrader.execution.faults import FaultConfig, OutageWindow
from simpletrader.execution.risk import RiskLimits
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger

_NS = 1_000_000_000


def default_policy(blueprint: Blueprint, bar_seconds: int) -> ExecutionPolicy:
    """The blueprint's policy defaults, durations converted to seconds."""
    policy = blueprint.execution.policy
    try:
        timeout = (
            parse_duration(policy.timeout, bar_seconds) if policy.timeout is not None else None
        )
        return ExecutionPolicy(
            mode=policy.mode,
            timeout_seconds=timeout,
            unwind_filled_legs=policy.unwind_filled_legs,
        )
    except ValueError as exc:
        raise ConfigError(f"execution.policy: {exc}") from None


def venue_config(spec: ExecutionSpec, bar_seconds: int, currency: str, seed: int) -> VenueConfig:
    """The simulated venue's settings from ``execution.*`` of a blueprint."""
    try:
        latency_s = parse_duration(spec.venue.latency, bar_seconds) if spec.venue.latency else 0
    except ValueError as exc:
        raise ConfigError(f"execution.venue.latency: {exc}") from None
    costs = spec.costs
    margin = spec.margin
    faults = spec.faults
    return VenueConfig(
        latency_ns=latency_s * _NS,
        costs=CostModel(
            fee_bps=costs.fee_bps,
            fee_per_unit=costs.fee_per_unit,
            fee_minimum=costs.fee_minimum,
            spread_bps=costs.spread_bps,
            slippage_bps=costs.slippage_bps,
            borrow_bps_per_year=costs.borrow_bps_per_year,
            fee_asset=currency,
        ),
        margin=MarginModel(
            long=margin.requirement,
            short=(
                margin.short_requirement
                if margin.short_requirement is not None
                else margin.requirement
            ),
        ),
        participation_cap=spec.venue.participation_cap,
        faults=FaultConfig(
            reject_probability=faults.reject_probability,
            partial_fill_probability=faults.partial_fill_probability,
            cancel_failure_probability=faults.cancel_failure_probability,
            outages=tuple(
                OutageWindow(datetime_to_ns(w.start), datetime_to_ns(w.end)) for w in faults.outages
            ),
        ),
        seed=seed,
    )


def risk_limits(spec: ExecutionSpec) -> RiskLimits:
    limits = spec.risk_limits
    return RiskLimits(
        max_position_per_symbol=limits.max_position_per_symbol,
        max_gross_exposure=limits.max_gross_exposure,
        max_order_notional=limits.max_order_notional,
        kill_switch_drawdown=limits.kill_switch_drawdown,
    )


def build_execution(
    blueprint: Blueprint,
    bars: Mapping[str, Bars],
    instruments: Mapping[str, Instrument],
    ledger: Ledger,
    journal: Journal,
    ids: IdGenerator,
    clock: Clock,
    reference_price: Callable[[str], float],
    bus: EventBus | None,
    bar_seconds: int,
    seed: int | None = None,
) -> tuple[SimulatedVenue, ExecutionWorker]:
    """The simulated venue and the worker of one run; the venue's fault and slippage streams
    are seeded by ``seed`` (the blueprint's when None)."""
    ex = blueprint.execution
    run_seed = blueprint.seed if seed is None else seed
    config = venue_config(ex, bar_seconds, blueprint.account.currency, run_seed)
    venue = SimulatedVenue(bars, instruments, ledger, config, clock)
    worker = ExecutionWorker(
        ledger,
        journal,
        venue,
        ids,
        clock,
        instruments,
        reference_price,
        bus=bus,
        fill_on_close=ex.venue.fill_on_close,
        risk_limits=risk_limits(ex),
        latency_ns=config.latency_ns,
    )
    return venue, worker
