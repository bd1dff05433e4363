"""The run's BatchLog keeps ended batches as columns and gives back the same events."""

from __future__ import annotations

from simpletrader.backtest.engine import BatchLog
from simpletrader.core.enums import BatchExecutionMode, GroupStatus
from simpletrader.journal.events import BatchEnded

EVENTS = [
    BatchEnded(
        at=10, batch_id="B1", mode=BatchExecutionMode.INDEPENDENT, status=GroupStatus.COMPLETED
    ),
    BatchEnded(
        at=20,
        batch_id="B2",
        mode=BatchExecutionMode.COORDINATED,
        status=GroupStatus.FAILED,
        failed_command_id="C7",
        reason="REJECTED: no margin",
    ),
    BatchEnded(
        at=20, batch_id="B3", mode=BatchExecutionMode.INDEPENDENT, status=GroupStatus.COMPLETED
    ),
    BatchEnded(
        at=35,
        batch_id="B4",
        mode=BatchExecutionMode.SEQUENTIAL,
        status=GroupStatus.PARTIAL,
        reason="TIMEOUT",
    ),
]


def _log() -> BatchLog:
    log = BatchLog()
    for event in EVENTS:
        log.on_batch_ended(event)
    return log


def test_ended_gives_back_every_event_in_order() -> None:
    assert _log().ended == EVENTS


def test_counts_tally_batches_per_mode_and_status() -> None:
    assert _log().counts() == {
        (BatchExecutionMode.INDEPENDENT, GroupStatus.COMPLETED): 2,
        (BatchExecutionMode.COORDINATED, GroupStatus.FAILED): 1,
        (BatchExecutionMode.SEQUENTIAL, GroupStatus.PARTIAL): 1,
    }


def test_an_empty_log_has_no_events_and_no_counts() -> None:
    assert BatchLog().ended == []
    assert BatchLog().counts() == {}
