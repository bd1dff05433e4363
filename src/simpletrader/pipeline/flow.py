"""The flow runner: phases 1-5 of DESIGN.md §2 for one strategy on one bar's close.

Per bar the engine calls :meth:`StrategyFlow.on_bar_close` with the cache at the bar and the
clock at its close. Detectors and risk monitors run on every bar after the warm-up; the
strategy planner runs only when something triggers it: signals, risks, its schedule (fire bars
computed at bootstrap) or, with a position trigger, an open trade plan. A bar on which nothing
triggers allocates nothing and journals nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from simpletrader.core.enums import OriginType
from simpletrader.core.errors import PluginError
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

_NEVER = 1 << 62
_ORIGIN_PREFIX = {OriginType.TICK: "TCK", OriginType.SCHEDULE: "SCH", OriginType.NEWS: "NWS"}
_DETECTED = (Signal, Risk)
# The trigger sets a flow can have, by (signal, risk, schedule, position): built once, not per
# flow.
_TRIGGERS = {
    key: frozenset(
        name for name, on in zip(("signal", "risk", "schedule", "position"), key, strict=True) if on
    )
    for key in itertools.product((False, True), repeat=4)
}
_T = TypeVar("_T")


def _extend(found: list[object] | None, result: object) -> list[object]:
    out = found if found is not None else []
    if isinstance(result, _DETECTED):
        out.append(result)
    else:
        assert isinstance(result, Iterable)
        out.extend(result)
    return out


def _only(found: list[object] | None, kind: type[_T]) -> tuple[_T, ...]:
    if not found:
        return ()
    return tuple([item for item in found if isinstance(item, kind)])


class StrategyFlow:
    """Runs detection, decision, planning and aggregation, and hands the batch to execution.

    ``warmup`` bars from the start see no flow at all; ``schedule_bars`` are the sorted bar
    indices the planner's schedule fires on; ``flows`` counts planner runs.
    """

    __slots__ = (
        "_next_fire",
        "_schedule_pos",
        "aggregator",
        "ctx",
        "detectors",
        "flows",
        "monitors",
        "planner",
        "position_trigger",
        "schedule_bars",
        "warmup",
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
        *,
        warmup: int = 0,
        schedule_bars: npt.NDArray[np.int64] | Sequence[int] = (),
    ) -> None:
        self.ctx = ctx
        self.detectors = tuple(detectors)
        self.monitors = tuple(monitors)
        self.planner = planner
        self.aggregator = aggregator
        self.worker = worker
        self.position_trigger = planner.position_trigger
        self.warmup = warmup
        self.schedule_bars: tuple[int, ...] = tuple(int(k) for k in schedule_bars)
        self._schedule_pos = 0
        self._next_fire = self.schedule_bars[0] if self.schedule_bars else _NEVER
        self.flows = 0

    def visit_bars(self, n: int) -> npt.NDArray[np.int64] | None:
        """Sorted bar indices on which this flow may fire, or None when that is every bar.

        The union of the detectors' ``candidates`` and the schedule's fire bars, past warm-up.
        A risk monitor reads the account, which changes with every fill, so any monitor (or a
        detector without a pre-filter) means every bar. Bars where the strategy holds a
        position with a position trigger are the engine's to add, as they happen.
        """
        if self.monitors:
            return None
        mask = np.zeros(n, dtype=np.bool_)
        for detector in self.detectors:
            found = detector.candidates(self.ctx)
            if found is None:
                return None
            if found.shape != (n,):
                raise PluginError(
                    f"signal detector {detector.name}: candidates() gave shape {found.shape}; "
                    f"expected ({n},)"
                )
            mask |= found.astype(np.bool_, copy=False)
        if self.schedule_bars:
            mask[np.asarray(self.schedule_bars, dtype=np.int64)] = True
        mask[: self.warmup] = False
        return np.flatnonzero(mask).astype(np.int64)

    def on_bar_close(self) -> None:
        """Called with the cache at the current bar and the clock at its close."""
        ctx = self.ctx
        index = ctx.cache.index
        if index < self.warmup:
            return
        signals: list[object] | None = None
        for detector in self.detectors:
            found = detector.detect(ctx)
            if found is not None:
                signals = _extend(signals, found)
        risks: list[object] | None = None
        for monitor in self.monitors:
            found_risk = monitor.assess(ctx)
            if found_risk is not None:
                risks = _extend(risks, found_risk)
        if (
            signals is None
            and risks is None
            and index < self._next_fire
            and not (self.position_trigger and ctx.ledger.open_plans(ctx.strategy_id))
        ):
            return
        self._trigger(index, signals, risks)

    def _advance_schedule(self, index: int) -> bool:
        """Consume the fire bars up to ``index``; True if any was due (a missed one fires late)."""
        bars = self.schedule_bars
        start = pos = self._schedule_pos
        while pos < len(bars) and bars[pos] <= index:
            pos += 1
        self._schedule_pos = pos
        self._next_fire = bars[pos] if pos < len(bars) else _NEVER
        return pos > start

    def _trigger(
        self, index: int, signals: list[object] | None, risks: list[object] | None
    ) -> None:
        ctx = self.ctx
        scheduled = index >= self._next_fire and self._advance_schedule(index)
        held = bool(self.position_trigger and ctx.ledger.open_plans(ctx.strategy_id))
        if not (signals or risks or scheduled or held):
            return
        self.run(
            _only(signals, Signal),
            _only(risks, Risk),
            _TRIGGERS[bool(signals), bool(risks), scheduled, held],
            OriginType.SCHEDULE if scheduled else OriginType.TICK,
        )

    def run(
        self,
        signals: tuple[Signal, ...],
        risks: tuple[Risk, ...],
        triggers: frozenset[str],
        origin_type: OriginType = OriginType.TICK,
    ) -> None:
        """One flow: journal what was detected, let the planner decide, plan, aggregate and
        submit. A flow triggered only by a held position journals nothing unless the planner
        makes a directive."""
        ctx = self.ctx
        self.flows += 1
        at = ctx.clock.now_ns()
        # A fresh id of the type's own prefix and a member of the enum (a caller's plain
        # "TICK" converted, as validation would): what Origin's validation would check.
        kind = origin_type if origin_type.__class__ is OriginType else OriginType(origin_type)
        origin_id = ctx.new_id(_ORIGIN_PREFIX[kind])
        origin = Origin.trusted(id=origin_id, type=kind)
        record = self.worker.record
        cache = ctx.cache
        cache.origin, cache.signals, cache.risks = origin, signals, risks
        journaled = bool(signals or risks or origin_type is not OriginType.TICK)
        if journaled:
            self._record_detection(at, origin, origin_id, signals, risks)
        directive = self.planner.decide(Decision(ctx, signals, risks, origin_id, triggers))
        if directive is None:
            return
        if not journaled:
            self._record_detection(at, origin, origin_id, signals, risks)
        record(FlowRecorded(at, directive, directive.directive_id))
        batch = self.aggregator.build(directive, ctx)
        if isinstance(batch, NotPlanned):
            record(DirectiveNotPlanned(at, directive.directive_id, batch.reason))
            return
        record(FlowRecorded(at, batch, batch.batch_id))
        self.worker.submit_batch(batch, ctx.strategy_id)

    def _record_detection(
        self,
        at: int,
        origin: Origin,
        origin_id: str,
        signals: tuple[Signal, ...],
        risks: tuple[Risk, ...],
    ) -> None:
        record = self.worker.record
        record(FlowRecorded(at, origin, origin_id))
        for signal in signals:
            record(FlowRecorded(at, signal, signal.signal_id))
        for risk in risks:
            record(FlowRecorded(at, risk, risk.risk_id))
