"""The simulated clock moves only when set; conversions between ns and datetimes are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.core.clock import SimulatedClock, WallClock, datetime_to_ns, ns_to_datetime

NS_2024 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z


def test_simulated_clock_reads_what_the_engine_set() -> None:
    clock = SimulatedClock(NS_2024)
    assert clock.now_ns() == NS_2024
    assert clock.now() == datetime(2024, 1, 1, tzinfo=UTC)
    clock.set(NS_2024 + 90 * 1_000_000_000)
    assert clock.now_ns() == NS_2024 + 90_000_000_000
    assert clock.now() == datetime(2024, 1, 1, 0, 1, 30, tzinfo=UTC)


def test_simulated_clock_does_not_move_by_itself() -> None:
    clock = SimulatedClock(NS_2024)
    first = clock.now()
    assert clock.now() is first
    assert clock.now_ns() == NS_2024


def test_simulated_clock_returns_a_new_datetime_only_after_a_move() -> None:
    clock = SimulatedClock(NS_2024)
    before = clock.now()
    clock.set(NS_2024)
    assert clock.now() is before
    clock.set(NS_2024 + 1_000)
    assert clock.now() == before + timedelta(microseconds=1)


def test_clock_datetimes_are_utc_aware() -> None:
    assert SimulatedClock(NS_2024).now().tzinfo is UTC
    assert WallClock().now().tzinfo is UTC


def test_wall_clock_reads_real_time_in_ns_and_datetime() -> None:
    clock = WallClock()
    before = datetime.now(UTC)
    ns = clock.now_ns()
    after = datetime.now(UTC)
    assert datetime_to_ns(before) <= ns <= datetime_to_ns(after)


def test_naive_datetime_is_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match=r"2024-01-01T00:00:00 is naive"):
        datetime_to_ns(datetime(2024, 1, 1))


def test_datetime_to_ns_is_exact_before_1970() -> None:
    moment = datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    assert datetime_to_ns(moment) == -500_000_000
    assert ns_to_datetime(-500_000_000) == moment


def test_datetime_to_ns_converts_other_zones_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert datetime_to_ns(datetime(2024, 1, 1, 1, tzinfo=paris)) == NS_2024


def test_ns_to_datetime_truncates_below_a_microsecond() -> None:
    assert ns_to_datetime(NS_2024 + 999) == datetime(2024, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=-(2**52), max_value=2**52))
def test_whole_microseconds_round_trip_exactly(microseconds: int) -> None:
    ns = microseconds * 1_000
    assert datetime_to_ns(ns_to_datetime(ns)) == ns
