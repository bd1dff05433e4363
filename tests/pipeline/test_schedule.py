"""Schedule fire bars: the first bar whose close is at or after each scheduled time."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from simpletrader.pipeline.schedule import fire_bars

HOUR_NS = 3_600 * 1_000_000_000
DAY_NS = 24 * HOUR_NS


def _opens(start: datetime, n: int, step_ns: int) -> np.ndarray:
    first = int(start.timestamp()) * 1_000_000_000
    return first + step_ns * np.arange(n, dtype=np.int64)


def test_weekly_monday_fires_on_the_bar_that_closes_at_monday_midnight() -> None:
    opens = _opens(datetime(2024, 1, 1, tzinfo=UTC), 31, DAY_NS)  # Monday 1 January
    # 8 January 00:00 is the close of the 7 January bar (index 6)
    assert fire_bars("0 0 * * MON", opens, DAY_NS).tolist() == [6, 13, 20, 27]


def test_a_time_inside_a_bar_fires_that_bar_once() -> None:
    opens = _opens(datetime(2024, 1, 1, tzinfo=UTC), 3, DAY_NS)
    assert fire_bars("0 12 * * *", opens, DAY_NS).tolist() == [0, 1, 2]
    assert fire_bars("*/5 * * * *", opens, DAY_NS).tolist() == [0, 1, 2]


def test_a_gap_in_the_data_fires_on_the_next_bar() -> None:
    # Friday 5 January then Monday 8 January: Saturday noon fires on the Monday bar.
    opens = np.array(
        [
            _opens(datetime(2024, 1, 5, tzinfo=UTC), 1, DAY_NS)[0],
            _opens(datetime(2024, 1, 8, tzinfo=UTC), 1, DAY_NS)[0],
        ],
        dtype=np.int64,
    )
    assert fire_bars("0 12 * * SAT", opens, DAY_NS).tolist() == [1]


def test_monthly_on_hourly_bars_and_the_first_bar_bound() -> None:
    opens = _opens(datetime(2024, 1, 31, 20, tzinfo=UTC), 30 * 24 + 10, HOUR_NS)
    # 1 February 00:00 closes bar 3 (20:00, 21:00, 22:00, 23:00 -> close 00:00)
    fired = fire_bars("@monthly", opens, HOUR_NS)
    assert fired.tolist() == [3, 3 + 29 * 24]
    assert fire_bars("@monthly", opens, HOUR_NS, first=4).tolist() == [3 + 29 * 24]


def test_times_before_the_data_never_fire() -> None:
    opens = _opens(datetime(2024, 1, 1, tzinfo=UTC), 2, DAY_NS)
    assert fire_bars("0 0 1 1 *", opens, DAY_NS).tolist() == []


def test_invalid_cron_text_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a valid cron expression"):
        fire_bars("every day", _opens(datetime(2024, 1, 1, tzinfo=UTC), 2, DAY_NS), DAY_NS)
