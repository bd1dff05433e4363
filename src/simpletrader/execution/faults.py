"""Seeded fault injection for the simulated venue (DESIGN.md §5).

Faults: rejected submissions, partial fills, refused cancels, and outage windows during which
the venue is unreachable (submissions are rejected, cancels and replaces refused; resting orders
keep matching, as on an exchange whose link is down). Each kind draws from its own seeded
stream, separate from the id and slippage streams, so changing one probability or adding an
observer never shifts another fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

from simpletrader.core.errors import ConfigError

UNAVAILABLE = "VENUE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class OutageWindow:
    """The venue is unreachable from ``start_ns`` (inclusive) to ``end_ns`` (exclusive)."""

    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        if self.end_ns <= self.start_ns:
            raise ConfigError(
                f"outage window end {self.end_ns} must be after its start {self.start_ns}"
            )


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Probabilities in [0, 1]; ``symbols`` limits the faults to those symbols (None: all)."""

    reject_probability: float = 0.0
    partial_fill_probability: float = 0.0
    cancel_failure_probability: float = 0.0
    outages: tuple[OutageWindow, ...] = ()
    symbols: frozenset[str] | None = field(default=None)

    def __post_init__(self) -> None:
        for name in (
            "reject_probability",
            "partial_fill_probability",
            "cancel_failure_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"execution.faults.{name}: {value} is not in [0, 1]")

    @property
    def enabled(self) -> bool:
        return bool(
            self.reject_probability
            or self.partial_fill_probability
            or self.cancel_failure_probability
            or self.outages
        )


class FaultInjector:
    """Decides, deterministically for a seed, which requests and fills go wrong."""

    __slots__ = ("_cancel", "_partial", "_reject", "config")

    def __init__(self, config: FaultConfig, seed: int = 0) -> None:
        self.config = config
        self._reject = Random(f"{seed}:faults:reject")
        self._partial = Random(f"{seed}:faults:partial")
        self._cancel = Random(f"{seed}:faults:cancel")

    def _applies(self, symbol: str) -> bool:
        symbols = self.config.symbols
        return symbols is None or symbol in symbols

    def in_outage(self, at: int) -> bool:
        return any(w.start_ns <= at < w.end_ns for w in self.config.outages)

    def rejection(self, symbol: str, at: int) -> str | None:
        """The reason a submission at ``at`` is rejected, or None when it goes through."""
        if not self._applies(symbol):
            return None
        if self.config.outages and self.in_outage(at):
            return f"{UNAVAILABLE} (outage)"
        p = self.config.reject_probability
        if p and self._reject.random() < p:
            return "FAULT_INJECTED_REJECT"
        return None

    def cancel_refusal(self, symbol: str, at: int) -> str | None:
        """The reason a cancel (or replace) at ``at`` is refused, or None when it is honoured."""
        if not self._applies(symbol):
            return None
        if self.config.outages and self.in_outage(at):
            return f"{UNAVAILABLE} (outage)"
        p = self.config.cancel_failure_probability
        if p and self._cancel.random() < p:
            return "FAULT_INJECTED_CANCEL_FAILURE"
        return None

    def replace_refusal(self, symbol: str, at: int) -> str | None:
        """Replaces fail only in outages: an amend is not a cancel."""
        if self._applies(symbol) and self.config.outages and self.in_outage(at):
            return f"{UNAVAILABLE} (outage)"
        return None

    def partial(self, symbol: str, quantity: Decimal, lot: Decimal) -> Decimal:
        """``quantity``, or a random whole number of lots below it for a partial fill."""
        p = self.config.partial_fill_probability
        if not p or not self._applies(symbol):
            return quantity
        lots = int(quantity / lot)
        if lots < 2 or self._partial.random() >= p:
            return quantity
        return lot * self._partial.randint(1, lots - 1)
