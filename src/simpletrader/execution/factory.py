"""Wiring the execution side of a backtest from its blueprint: venue, costs, policy, worker."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simpletrader.config.blueprint import Blueprint
from simpletrader.config.durations import parse_duration
from simpletrader.core.clock import Clock
from simpletrader.core.errors import ConfigError
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator
from simpletrader.data import Bars, Instrument
from simpletrader.dtos import ExecutionPolicy
from simpletrader.execution.connectors.simulated import CostModel, SimulatedVenue, VenueConfig
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger


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
) -> tuple[SimulatedVenue, ExecutionWorker]:
    ex = blueprint.execution
    try:
        latency_s = parse_duration(ex.venue.latency, bar_seconds) if ex.venue.latency else 0
    except ValueError as exc:
        raise ConfigError(f"execution.venue.latency: {exc}") from None
    costs = ex.costs
    venue = SimulatedVenue(
        bars,
        instruments,
        ledger,
        VenueConfig(
            latency_ns=latency_s * 1_000_000_000,
            costs=CostModel(
                fee_bps=costs.fee_bps,
                fee_per_unit=costs.fee_per_unit,
                fee_minimum=costs.fee_minimum,
                spread_bps=costs.spread_bps,
                slippage_bps=costs.slippage_bps,
                fee_asset=blueprint.account.currency,
            ),
        ),
    )
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
    )
    return venue, worker
