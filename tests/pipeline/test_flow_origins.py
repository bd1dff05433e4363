"""The origin a flow starts with: a fresh id of its type's prefix, as validation would make it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from simpletrader.core.enums import OriginType, SignalDirection
from simpletrader.dtos import Origin, StrategyDirective
from simpletrader.journal.events import FlowRecorded, JournalEvent
from simpletrader.pipeline.aggregation import Aggregator
from simpletrader.pipeline.flow import StrategyFlow
from simpletrader.plugins.base import Decision, SignalDetector, StrategyPlanner

sys.path.insert(0, str(Path(__file__).parents[1] / "plugins"))
from plugin_kit import assert_as_validated, make_bars, make_ctx


class Silent(StrategyPlanner):
    def decide(self, decision: Decision) -> StrategyDirective | None:
        return None


class Recorder:
    def __init__(self) -> None:
        self.events: list[JournalEvent] = []

    def record(self, event: JournalEvent) -> None:
        self.events.append(event)


@pytest.mark.parametrize(
    ("origin_type", "prefix"),
    [
        (OriginType.TICK, "TCK_"),
        (OriginType.SCHEDULE, "SCH_"),
        ("SCHEDULE", "SCH_"),
        (OriginType.NEWS, "NWS_"),
    ],
)
def test_a_flow_journals_a_validated_origin_of_its_type(
    origin_type: OriginType, prefix: str
) -> None:
    ctx = make_ctx(make_bars("A", [100.0]))
    worker = Recorder()
    flow = StrategyFlow(ctx, [], [], Silent(), Aggregator({}), worker)  # type: ignore[arg-type]

    class Detector(SignalDetector):
        def detect(self, ctx: object) -> None:
            return None

    signal = Detector().signal(ctx, SignalDirection.LONG, "X_UP")
    flow.run((signal,), (), frozenset({"signal"}), origin_type)
    first = worker.events[0]
    assert isinstance(first, FlowRecorded)
    origin = first.dto
    assert isinstance(origin, Origin)
    assert origin.id.startswith(prefix)
    assert origin.type is OriginType(origin_type)
    assert_as_validated(origin)
