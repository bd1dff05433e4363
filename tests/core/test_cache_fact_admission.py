"""Vectorised facts enter the StrategyCache only after bootstrap has checked them causal."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simpletrader.backtest.engine import run_backtest
from simpletrader.config.blueprint import PluginSpec
from simpletrader.config.loader import load_blueprint
from simpletrader.core.cache import StrategyCache
from simpletrader.core.errors import PluginError
from simpletrader.data.bars import Bars
from simpletrader.pipeline.bootstrap import add_context, compute_facts
from simpletrader.plugins import registry
from simpletrader.plugins.base import ContextWorker

N = 200


@pytest.fixture
def clean_registry() -> Iterator[None]:
    registry.available("context_worker")
    saved = {role: dict(plugins) for role, plugins in registry._REGISTRY.items()}
    yield
    for role, plugins in registry._REGISTRY.items():
        plugins.clear()
        plugins.update(saved[role])


class PeekNextClose(ContextWorker):
    """Tomorrow's close, today: the classic look-ahead."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        return {"value": pd.Series(close).shift(-1).to_numpy()}


class NormalisedByLastClose(ContextWorker):
    """Close divided by the last close of the history: every value depends on the end."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        return {"value": close / close[-1]}


class Momentum(ContextWorker):
    """Close minus the close 3 bars ago, and its sign: causal."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = pd.Series(next(iter(bars.values())).close)
        change = (close - close.shift(3)).to_numpy()
        return {"change": change, "sign": np.sign(change)}


class NeedsLongHistory(ContextWorker):
    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        if len(close) < 50:
            raise ValueError("needs 50 bars")
        return {"value": close}


class ExtraFactAtTheEnd(ContextWorker):
    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        out = {"value": close}
        if len(close) == N:
            out["bonus"] = close
        return out


class EndLate(ContextWorker):
    """Causal for the first 100,000 bars, then offset by the last close of the history."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        out = close.copy()
        out[100_000:] += close[-1]
        return {"value": out}


class RoundsByLength(ContextWorker):
    """The close, off by a relative 1e-12 depending on the history's length: causal within the
    tolerance, but not bit for bit."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        return {"value": close * (1.0 + 1e-12 * (len(close) % 3))}


class KeepsItsResult(ContextWorker):
    """Keeps what it returns (an array, and the array a returned view reads from)."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        close = next(iter(bars.values())).close
        doubled = close * 2.0
        both = np.stack([close, close + 1.0])
        self.kept = [*getattr(self, "kept", []), doubled, both]
        return {"doubled": doubled, "upper": both[1]}


class ForgetsItsResult(ContextWorker):
    """Returns fresh arrays and keeps only weak references to them (the first: all bars)."""

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        value = next(iter(bars.values())).close * 2.0
        self.returned = [*getattr(self, "returned", []), weakref.ref(value)]
        return {"value": value}


def _bars(n: int = N) -> dict[str, Bars]:
    rng = np.random.default_rng(7)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    return {
        "AAA": Bars(
            symbol="AAA",
            timestamps=np.arange(n, dtype=np.int64) * 60_000_000_000,
            open=close,
            high=close + 1.0,
            low=close - 1.0,
            close=close,
            volume=np.ones(n),
        )
    }


def _worker(cls: type[ContextWorker], name: str) -> ContextWorker:
    # A subclass per call, so registering the class elsewhere never renames it here.
    named = type(cls.__name__, (cls,), {"plugin_name": cls.__name__.lower()})
    return named(name=name)


def test_non_causal_indicator_using_shift_minus_one_is_refused_with_its_name() -> None:
    worker = _worker(PeekNextClose, "tomorrow")
    with pytest.raises(PluginError) as info:
        compute_facts(worker, _bars(), "workforce.context_worker.2")
    message = str(info.value)
    assert message.startswith("workforce.context_worker.2 (peeknextclose 'tomorrow') is not causal")
    assert "fact 'value' at bar" in message
    assert "look-ahead" in message
    assert "refused" in message


def test_indicator_depending_on_the_end_of_history_is_refused() -> None:
    worker = _worker(NormalisedByLastClose, "norm")
    with pytest.raises(PluginError, match=r"'norm'\) is not causal: fact 'value' at bar 0"):
        compute_facts(worker, _bars(), "workforce.context_worker.0")


def test_causal_indicator_is_admitted_with_facts_named_after_the_worker() -> None:
    bars = _bars()
    facts = compute_facts(_worker(Momentum, "mom"), bars, "workforce.context_worker.0")
    assert sorted(facts) == ["mom.change", "mom.sign"]
    expected = bars["AAA"].close[3:] - bars["AAA"].close[:-3]
    np.testing.assert_allclose(facts["mom.change"][3:], expected)


def test_worker_failing_on_a_shorter_history_is_named() -> None:
    with pytest.raises(
        PluginError, match=r"\(needslonghistory 'long'\) failed to compute on \d+ bars"
    ):
        compute_facts(_worker(NeedsLongHistory, "long"), _bars(), "workforce.context_worker.0")


def test_worker_returning_other_facts_on_a_shorter_history_is_refused() -> None:
    with pytest.raises(PluginError, match="must return the same facts for any history"):
        compute_facts(_worker(ExtraFactAtTheEnd, "extra"), _bars(), "workforce.context_worker.0")


def test_admitted_facts_enter_the_cache_keyed_by_their_worker(clean_registry: None) -> None:
    registry.register("momentum_for_test")(Momentum)
    bars = _bars()
    cache = StrategyCache(bars)
    add_context(cache, [PluginSpec(plugin="momentum_for_test", name="mom")], bars)
    assert cache.facts_of("mom") == ("mom.change", "mom.sign")
    assert cache.producer("mom.sign") == "mom"


def test_a_blueprint_with_a_look_ahead_worker_does_not_run(
    clean_registry: None, tmp_path: Path
) -> None:
    registry.register("peek_next_close")(PeekNextClose)
    blueprint = tmp_path / "peek.yaml"
    blueprint.write_text(
        "name: peek\n"
        "data:\n"
        "  symbols:\n"
        "    - {symbol: GOOG, source: GOOG_1d}\n"
        "workforce:\n"
        "  context_worker:\n"
        "    - plugin: sma\n"
        "      name: fast\n"
        "      params: {period: 10}\n"
        "    - plugin: peek_next_close\n"
        "      name: tomorrow\n"
        "  signal_detector:\n"
        "    - plugin: ma_crossover\n"
        "      params: {fast: fast, slow: tomorrow}\n"
        "  strategy_planner: {plugin: signal_to_directive}\n"
    )
    with pytest.raises(PluginError) as info:
        run_backtest(load_blueprint(blueprint))
    assert str(info.value).startswith(
        f"{blueprint}:10: workforce.context_worker.1 (peek_next_close 'tomorrow') is not causal"
    )


def test_a_look_ahead_far_into_a_long_history_is_refused_at_its_first_bar() -> None:
    with pytest.raises(
        PluginError, match=r"is not causal: fact 'value' at bar 100000 .* after 149999 are hidden"
    ):
        compute_facts(_worker(EndLate, "late"), _bars(200_000), "workforce.context_worker.0")


def test_values_equal_within_the_tolerance_are_admitted() -> None:
    bars = _bars()
    facts = compute_facts(_worker(RoundsByLength, "close"), bars, "workforce.context_worker.0")
    np.testing.assert_allclose(facts["close"], bars["AAA"].close, rtol=1e-11)


def test_a_fresh_fact_enters_the_cache_without_a_copy(clean_registry: None) -> None:
    registry.register("forgets_for_test")(ForgetsItsResult)
    bars = _bars()
    cache = StrategyCache(bars)
    [worker] = add_context(cache, [PluginSpec(plugin="forgets_for_test", name="twice")], bars)
    assert isinstance(worker, ForgetsItsResult)
    admitted = cache.whole_fact("twice")
    assert admitted is worker.returned[0]()
    assert not admitted.flags.writeable
    np.testing.assert_array_equal(admitted, bars["AAA"].close * 2.0)


def test_a_result_the_worker_keeps_is_copied_so_it_cannot_change_history(
    clean_registry: None,
) -> None:
    registry.register("keeps_for_test")(KeepsItsResult)
    bars = _bars()
    cache = StrategyCache(bars)
    [worker] = add_context(cache, [PluginSpec(plugin="keeps_for_test", name="k")], bars)
    assert isinstance(worker, KeepsItsResult)
    cache.index = N - 1
    doubled, upper = cache.fact("k.doubled"), cache.fact("k.upper")
    for kept in worker.kept:
        kept[:] = 0.0
    assert cache.fact("k.doubled") == doubled != 0.0
    assert cache.fact("k.upper") == upper != 0.0
