"""The point-in-time StrategyCache: a worker sees bars up to the current one, never later."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simpletrader.core.cache import StrategyCache
from simpletrader.core.errors import LookAheadError, PluginError
from simpletrader.data.bars import Bars

N = 10
DAY_NS = 86_400 * 1_000_000_000


def _bars(symbol: str, offset: float = 0.0) -> Bars:
    close = np.arange(N, dtype=np.float64) + 100.0 + offset
    return Bars(
        symbol=symbol,
        timestamps=np.arange(N, dtype=np.int64) * DAY_NS,
        open=close - 0.5,
        high=close + 1.0,
        low=close - 1.0,
        close=close,
        volume=np.full(N, 1000.0) + np.arange(N),
    )


@pytest.fixture
def cache() -> StrategyCache:
    cache = StrategyCache({"AAA": _bars("AAA"), "BBB": _bars("BBB", offset=50.0)})
    cache.add_fact("fast", np.arange(N, dtype=np.float64) * 10.0, producer="fast")
    cache.add_fact("bands.upper", np.arange(N, dtype=np.float64) + 0.5)
    cache.index = 4
    return cache


def test_current_and_past_bars_are_readable(cache: StrategyCache) -> None:
    assert cache.close() == 104.0
    assert cache.close(ago=4) == 100.0
    assert cache.close("BBB") == 154.0
    assert cache.fact("fast") == 40.0
    assert cache.fact("fast", 1) == 30.0
    assert cache.bar() == (103.5, 105.0, 103.0, 104.0)
    assert cache.volume(ago=2) == 1002.0
    assert cache.window("fast", 3).tolist() == [20.0, 30.0, 40.0]
    assert cache.closes(2, "BBB").tolist() == [153.0, 154.0]
    assert cache.at(4) == 4


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda c: c.fact("fast", -1), id="fact"),
        pytest.param(lambda c: c.close(ago=-1), id="close"),
        pytest.param(lambda c: c.volume(ago=-2), id="volume"),
        pytest.param(lambda c: c.bar(ago=-1), id="bar"),
        pytest.param(lambda c: c.bar("BBB", ago=-3), id="bar-other-symbol"),
        pytest.param(lambda c: c.window("fast", 3, ago=-1), id="window"),
        pytest.param(lambda c: c.closes(3, ago=-1), id="closes"),
        pytest.param(lambda c: c.at(5), id="at"),
    ],
)
def test_reading_a_later_bar_raises_look_ahead_error(cache: StrategyCache, read: object) -> None:
    with pytest.raises(LookAheadError, match="look-ahead"):
        read(cache)  # type: ignore[operator]


def test_look_ahead_message_says_how_far_and_the_current_bar(cache: StrategyCache) -> None:
    with pytest.raises(LookAheadError, match=r"1 bar\(s\) after the current bar 4"):
        cache.fact("fast", -1)
    with pytest.raises(LookAheadError, match="bar 7 is after the current bar 4"):
        cache.at(7)


def test_negative_absolute_index_is_refused_because_it_counts_from_the_future(
    cache: StrategyCache,
) -> None:
    with pytest.raises(LookAheadError, match="counts from the end of the history"):
        cache.at(-1)


def test_windows_end_at_the_current_bar_even_when_asked_for_more(cache: StrategyCache) -> None:
    assert cache.window("fast", 100).tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert cache.closes(100).tolist() == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert cache.window("fast", 2, ago=1).tolist() == [20.0, 30.0]


def test_windows_are_read_only(cache: StrategyCache) -> None:
    with pytest.raises(ValueError, match="read-only"):
        cache.window("fast", 2)[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        cache.closes(2)[0] = 1.0


def test_window_length_must_be_positive(cache: StrategyCache) -> None:
    with pytest.raises(PluginError, match="length >= 1, got 0"):
        cache.window("fast", 0)


def test_reads_before_the_first_bar_are_nan_not_the_end_of_history(cache: StrategyCache) -> None:
    # ago beyond the start would be a negative position, which numpy wraps to the last bars.
    assert math.isnan(cache.fact("fast", 5))
    assert math.isnan(cache.close(ago=5))
    assert math.isnan(cache.volume(ago=9))
    assert all(math.isnan(v) for v in cache.bar(ago=5))
    assert cache.window("fast", 3, ago=5).tolist() == []


def test_a_new_cache_is_before_the_first_bar() -> None:
    cache = StrategyCache({"AAA": _bars("AAA")})
    assert cache.index == -1
    assert math.isnan(cache.close())
    assert cache.closes(5).tolist() == []
    with pytest.raises(PluginError, match="no current bar yet"):
        _ = cache.timestamp


def test_timestamp_is_the_current_bars_open_time(cache: StrategyCache) -> None:
    assert cache.timestamp_ns == 4 * DAY_NS
    assert cache.timestamp.isoformat() == "1970-01-05T00:00:00+00:00"


def test_unknown_fact_lists_the_known_facts(cache: StrategyCache) -> None:
    for read in (lambda: cache.fact("slow"), lambda: cache.window("slow", 2)):
        with pytest.raises(
            PluginError, match=r"unknown fact 'slow'; known facts: bands\.upper, fast"
        ):
            read()


def test_unknown_symbol_lists_the_strategy_symbols(cache: StrategyCache) -> None:
    with pytest.raises(PluginError, match="unknown symbol 'ZZZ'; this strategy has AAA, BBB"):
        cache.close("ZZZ")
    with pytest.raises(PluginError, match="unknown symbol 'ZZZ'"):
        cache.bar("ZZZ")


def test_facts_are_keyed_by_the_worker_that_produced_them(cache: StrategyCache) -> None:
    cache.add_fact("bands.lower", np.zeros(N), producer="bands")
    assert cache.producer("fast") == "fast"
    assert cache.producer("bands.upper") == "bands"
    assert cache.facts_of("bands") == ("bands.upper", "bands.lower")
    assert cache.fact_names == ("fast", "bands.upper", "bands.lower")


def test_a_fact_produced_twice_names_both_workers(cache: StrategyCache) -> None:
    with pytest.raises(
        PluginError, match="'fast' of worker 'other' is already produced by worker 'fast'"
    ):
        cache.add_fact("fast", np.zeros(N), producer="other")


def test_a_fact_of_the_wrong_length_is_refused(cache: StrategyCache) -> None:
    with pytest.raises(PluginError, match=r"has shape \(3,\); expected \(10,\)"):
        cache.add_fact("short", np.zeros(3))


def test_added_facts_are_frozen_copies(cache: StrategyCache) -> None:
    values = np.ones(N)
    cache.add_fact("ones", values)
    values[4] = 99.0
    assert cache.fact("ones") == 1.0
    assert values.flags.writeable


def test_an_owned_fact_is_frozen_in_place_without_a_copy(cache: StrategyCache) -> None:
    values = np.ones(N)
    cache.add_fact("ones", values, owned=True)
    assert cache.whole_fact("ones") is values
    assert not values.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        values[4] = 99.0


def test_primary_symbol_must_be_one_of_the_bars() -> None:
    with pytest.raises(ValueError, match="primary symbol 'ZZZ' is not one of AAA"):
        StrategyCache({"AAA": _bars("AAA")}, primary="ZZZ")
