"""Planner selection by confidence: half-open ranges ``[lo, hi)``, with ``hi = 1`` closed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from simpletrader.core.errors import ConfigError
from simpletrader.plugins.base import Plugin


@dataclass(frozen=True, slots=True)
class RangedPlugin:
    low: float
    high: float
    plugin: Plugin
    label: str

    def covers(self, confidence: float) -> bool:
        if self.high >= 1.0:
            return self.low <= confidence <= 1.0
        return self.low <= confidence < self.high


class RoleSelector:
    """Chooses the plugin of one role whose range holds a directive's confidence."""

    __slots__ = ("_entries", "role")

    def __init__(self, role: str, entries: Sequence[RangedPlugin]) -> None:
        self.role = role
        ordered = sorted(entries, key=lambda e: e.low)
        for a, b in pairwise(ordered):
            if b.low < a.high:
                raise ConfigError(
                    f"workforce.{role}: confidence ranges overlap: {a.label} "
                    f"[{a.low}, {a.high}) and {b.label} [{b.low}, {b.high})"
                )
        self._entries = tuple(ordered)

    def select(self, confidence: float) -> Plugin | None:
        for entry in self._entries:
            if entry.covers(confidence):
                return entry.plugin
        return None

    def describe(self) -> str:
        return ", ".join(f"{e.label} [{e.low}, {e.high})" for e in self._entries) or "none"
