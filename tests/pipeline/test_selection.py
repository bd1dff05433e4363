"""Planner selection by half-open confidence ranges."""

from __future__ import annotations

import pytest

from simpletrader.core.errors import ConfigError
from simpletrader.pipeline.selection import RangedPlugin, RoleSelector
from simpletrader.plugins.entry import LimitOffset, MarketEntry


def test_ranges_are_half_open_except_at_one() -> None:
    low, high = MarketEntry(), LimitOffset()
    selector = RoleSelector(
        "entry_planner", [RangedPlugin(0.5, 1.0, high, "high"), RangedPlugin(0.0, 0.5, low, "low")]
    )
    assert selector.select(0.0) is low
    assert selector.select(0.4999) is low
    assert selector.select(0.5) is high
    assert selector.select(1.0) is high


def test_a_gap_selects_nothing() -> None:
    selector = RoleSelector(
        "entry_planner",
        [RangedPlugin(0.0, 0.3, MarketEntry(), "a"), RangedPlugin(0.6, 1.0, LimitOffset(), "b")],
    )
    assert selector.select(0.3) is None
    assert selector.select(0.59) is None
    assert selector.describe() == "a [0.0, 0.3), b [0.6, 1.0)"


def test_overlapping_ranges_name_both_plugins() -> None:
    with pytest.raises(ConfigError) as caught:
        RoleSelector(
            "size_planner",
            [
                RangedPlugin(0.0, 0.6, MarketEntry(), "x (#0)"),
                RangedPlugin(0.5, 1.0, LimitOffset(), "y (#1)"),
            ],
        )
    assert str(caught.value) == (
        "workforce.size_planner: confidence ranges overlap: x (#0) [0.0, 0.6) and y (#1) [0.5, 1.0)"
    )
