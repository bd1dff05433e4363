"""Execution algorithms: SINGLE, TWAP and ICEBERG as small state machines (DESIGN.md §3.3, §4).

An algorithm holds only its parameters (from the command's plans and its start time). Its
state is a function of the group's orders and the clock: the worker hands it a
:class:`Progress` computed from the ledger, so a restarted process rebuilds every algorithm
from the journal. :meth:`Algorithm.step` answers what to do now: send a child order, wait, or
end. Ending is not failing: the worker then applies the command's ``min_fill_ratio``.

- SINGLE: one order of the entry's type for the whole quantity; ends when it ends.
- TWAP: ``slice_count`` slices over ``window_seconds`` from the start; slice k is due at
  start + k x window / slices and is sent at the first bar open at or after that time (so it
  fills at that open). One child works at a time; a child that did not fill (rejected,
  cancelled) is made up by the next slice, which sends everything due and not yet filled.
  Once every slice is due, what is missing is retried at each bar open until the window ends.
- ICEBERG: a visible clip of target / slice_count (rounded up to a lot) works at a time; when it
  fills completely the next clip goes out (eligible from the next bar). A clip that ends
  unfilled is retried with the next clip at the next bar open; ``slice_count`` clips in a row
  ending unfilled end the algorithm. An optional ``window_seconds`` bounds it in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from typing import ClassVar

from simpletrader.core.enums import ExecutionAlgorithm
from simpletrader.dtos import ExecutionPlan

ZERO = Decimal(0)
_NS = 1_000_000_000
# Read for every command: under Python 3.11 a member read from its enum class costs ~900
# instructions (EnumType.__getattr__'s slot hook), a module global ~20.
_SINGLE = ExecutionAlgorithm.SINGLE


class Action(StrEnum):
    SEND = "SEND"
    WAIT = "WAIT"
    END = "END"


@dataclass(frozen=True, slots=True)
class Step:
    """What an algorithm wants now: SEND ``quantity``, WAIT, or END with ``reason``."""

    action: Action
    quantity: Decimal = ZERO
    reason: str = ""


WAIT = Step(Action.WAIT)


@dataclass(frozen=True, slots=True)
class Progress:
    """A group's orders, summed up. Built by the worker from the ledger.

    ``working`` is the unfilled quantity of children still working; ``failed_streak`` counts
    the most recent children that ended unfilled or part-filled without a complete fill;
    ``last_end`` is the reason the last child ended (None when it filled or still works);
    ``last_sent_at`` is when the last child was submitted (None before the first).
    """

    target: Decimal
    filled: Decimal
    working: Decimal
    children: int
    failed_streak: int
    last_end: str | None
    last_sent_at: int | None


class Algorithm:
    """Base: parameters only. ``scheduled`` steps run at a bar's open (before matching);
    the others react to a report (after matching, so what they send waits for the next bar)."""

    __slots__ = ("lot", "started_at", "target")

    is_sliced: ClassVar[bool] = False
    """Whether the algorithm sends slices (a class constant: read on every report)."""

    def __init__(self, target: Decimal, lot: Decimal, started_at: int) -> None:
        self.target = target
        self.lot = lot
        self.started_at = started_at

    def first(self) -> Decimal:
        """The quantity of the first child, sent when the command starts."""
        return self.target

    def step(self, progress: Progress, now: int, scheduled: bool) -> Step:
        """What to do now (the worker handles a complete fill itself)."""
        if progress.working > 0:
            return WAIT
        return Step(Action.END, reason=progress.last_end or "ENDED")

    def _floor(self, quantity: Decimal) -> Decimal:
        return (quantity / self.lot).to_integral_value(rounding=ROUND_DOWN) * self.lot


class Single(Algorithm):
    """One order of the entry's type for the whole quantity."""

    __slots__ = ()


class Twap(Algorithm):
    __slots__ = ("slices", "window_ns")

    def __init__(
        self, target: Decimal, lot: Decimal, started_at: int, slices: int, window_seconds: int
    ) -> None:
        super().__init__(target, lot, started_at)
        self.slices = slices
        self.window_ns = window_seconds * _NS

    is_sliced = True

    @property
    def ends_at(self) -> int:
        return self.started_at + self.window_ns

    def due(self, now: int) -> int:
        """How many slices are due at ``now`` (slice 0 is due at the start)."""
        if now < self.started_at:
            return 0
        return min(self.slices, (now - self.started_at) * self.slices // self.window_ns + 1)

    def cumulative(self, slices: int) -> Decimal:
        """What should be filled once ``slices`` slices are done (the last takes the rest)."""
        if slices >= self.slices:
            return self.target
        return self._floor(self.target * slices / self.slices)

    def first(self) -> Decimal:
        return self.cumulative(1)

    def step(self, progress: Progress, now: int, scheduled: bool) -> Step:
        if now >= self.ends_at:
            return Step(Action.END, reason=f"window of {self.window_ns // _NS}s ended")
        if progress.working > 0 or not scheduled:
            return WAIT
        due = self.due(now)
        last = progress.last_sent_at
        fresh = last is None or due > self.due(last)
        if not fresh and due < self.slices:
            return WAIT
        missing = self._floor(self.cumulative(due) - progress.filled)
        if missing < self.lot:
            return WAIT
        return Step(Action.SEND, missing)


class Iceberg(Algorithm):
    __slots__ = ("clip", "slices", "window_ns")

    def __init__(
        self,
        target: Decimal,
        lot: Decimal,
        started_at: int,
        slices: int,
        window_seconds: int | None,
    ) -> None:
        super().__init__(target, lot, started_at)
        self.slices = slices
        # Rounded up to the lot: ``slices`` clips then cover the target (the last one smaller),
        # where rounding down would leave a remainder of a few lots as one more child.
        self.clip = max(lot, (target / slices / lot).to_integral_value(rounding=ROUND_UP) * lot)
        self.window_ns = window_seconds * _NS if window_seconds is not None else None

    is_sliced = True

    def first(self) -> Decimal:
        return min(self.clip, self.target)

    def step(self, progress: Progress, now: int, scheduled: bool) -> Step:
        if self.window_ns is not None and now >= self.started_at + self.window_ns:
            return Step(Action.END, reason=f"window of {self.window_ns // _NS}s ended")
        if progress.working > 0:
            return WAIT
        remaining = self._floor(progress.target - progress.filled)
        if remaining < self.lot:
            return Step(Action.END, reason=progress.last_end or "ENDED")
        if progress.last_end is None:
            return Step(Action.SEND, min(self.clip, remaining))  # the clip filled: refresh
        if progress.failed_streak >= self.slices:
            return Step(
                Action.END,
                reason=f"{progress.last_end} ({progress.failed_streak} clips in a row)",
            )
        if not scheduled:
            return WAIT  # retried with the next clip at the next bar's open
        return Step(Action.SEND, min(self.clip, remaining))


def sliced(plan: ExecutionPlan | None) -> bool:
    """Whether ``plan`` asks for a sliced algorithm (TWAP, ICEBERG); SINGLE without a plan."""
    return plan is not None and plan.algorithm is not _SINGLE


def build_algorithm(
    plan: ExecutionPlan | None, target: Decimal, lot: Decimal, started_at: int
) -> Algorithm:
    """The algorithm an execution plan asks for (SINGLE without a plan)."""
    if plan is None or not sliced(plan):
        return Single(target, lot, started_at)
    slices = plan.slice_count or 2
    if plan.algorithm is ExecutionAlgorithm.TWAP:
        assert plan.window_seconds is not None  # ExecutionPlan validates it for TWAP
        return Twap(target, lot, started_at, slices, plan.window_seconds)
    return Iceberg(target, lot, started_at, slices, plan.window_seconds)
