"""The flow runner: phases 1-5 of DESIGN.md §2 for one strategy on one bar's close."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from simpletrader.core.enums import OriginType
from simpletrader.dtos import Origin, Risk, Signal
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.events import DirectiveNotPlanned, FlowRecorded
from simpletrader.pipeline.aggregation import Aggregator, NotPlanned
from simpletrader.plugins.base import (
    Decision,
    FlowContext,
    RiskMonitor,
    SignalDetector,
    StrategyPlanner,
)


def _collect(result: object) -> list[object]:
    if result is None:
        return []
    if isinstance(result, Signal | Risk):
        return [result]
    assert isinstance(result, Iterable)
    return list(result)


class StrategyFlow:
    """Runs detection, decision, planning and aggregation, and hands the batch to execution."""

    __slots__ = (
        "aggregator",
        "ctx",
        "detectors",
        "flows",
        "monitors",
        "planner",
        "position_trigger",
        "worker",
    )

    def __init__(
        self,
        ctx: FlowContext,
        detectors: Sequence[SignalDetector],
        monitors: Sequence[RiskMonitor],
        planner: StrategyPlanner,
        aggregator: Aggregator,
        worker: ExecutionWorker,
    ) -> None:
        self.ctx = ctx
        self.detectors = tuple(detectors)
        self.monitors = tuple(monitors)
        self.planner = planner
        self.aggregator = aggregator
        self.worker = worker
        self.position_trigger = planner.position_trigger
        self.flows = 0

    def on_bar_close(self) -> None:
        """Called with the cache at the current bar and the clock at its close."""
        ctx = self.ctx
        signals: list[Signal] | None = None
        for detector in self.detectors:
            found = detector.detect(ctx)
            if found is not None:
                signals = (signals or []) + _collect(found)  # type: ignore[operator]
        risks: list[Risk] | None = None
        for monitor in self.monitors:
            found_risk = monitor.assess(ctx)
            if found_risk is not None:
                risks = (risks or []) + _collect(found_risk)  # type: ignore[operator]
        triggers: set[str] = set()
        if signals:
            triggers.add("signal")
        if risks:
            triggers.add("risk")
        if self.position_trigger and ctx.ledger.open_plans(ctx.strategy_id):
            triggers.add("position")
        if not triggers:
            return
        self._run(tuple(signals or ()), tuple(risks or ()), frozenset(triggers), OriginType.TICK)

    def _run(
        self,
        signals: tuple[Signal, ...],
        risks: tuple[Risk, ...],
        triggers: frozenset[str],
        origin_type: OriginType,
    ) -> None:
        ctx = self.ctx
        self.flows += 1
        at = ctx.clock.now_ns()
        prefix = {OriginType.TICK: "TCK", OriginType.SCHEDULE: "SCH", OriginType.NEWS: "NWS"}
        origin = Origin(id=ctx.new_id(prefix[origin_type]), type=origin_type)
        record = self.worker.record
        cache = ctx.cache
        cache.origin, cache.signals, cache.risks = origin, signals, risks
        record(FlowRecorded(at, origin, origin.id))
        for signal in signals:
            record(FlowRecorded(at, signal, signal.signal_id))
        for risk in risks:
            record(FlowRecorded(at, risk, risk.risk_id))
        directive = self.planner.decide(Decision(ctx, signals, risks, origin.id, triggers))
        if directive is None:
            return
        record(FlowRecorded(at, directive, directive.directive_id))
        batch = self.aggregator.build(directive, ctx)
        if isinstance(batch, NotPlanned):
            record(DirectiveNotPlanned(at, directive.directive_id, batch.reason))
            return
        record(FlowRecorded(at, batch, batch.batch_id))
        self.worker.submit_batch(batch, ctx.strategy_id)
