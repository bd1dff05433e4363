"""Pipeline benchmark: microseconds per flow from directive to batch, and bars/s when nothing
fires.

1. Aggregation: ``Aggregator.build`` on a prepared directive with the blueprint-default
   planners (market entry, no exit, equity fraction, single order), 1 and 2 NEW_TRADE legs,
   and 1 leg with a percent exit; plus a whole planned flow (planner decision, aggregation and
   journaling, without execution).
2. Quiet bars: a blueprint whose detector never fires (SMA 30 against SMA 30) on the 1M-bar
   random walk of ``bench_backtest.py``: the strategy's ``on_bar_close`` alone over every bar,
   and the whole ``run_backtest`` (bootstrap, causality check, engine loop, data preloaded).

    python benchmarks/bench_pipeline.py [--bars 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backtest import ensure_csv
from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint_text
from simpletrader.core.cache import StrategyCache
from simpletrader.core.clock import SimulatedClock
from simpletrader.core.enums import LegScope, Side
from simpletrader.core.ids import IdGenerator
from simpletrader.data import Bars, default_instrument, load_bars
from simpletrader.dtos import CausalityChain, LegDirective, StrategyDirective
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger
from simpletrader.pipeline.aggregation import Aggregator, NotPlanned
from simpletrader.pipeline.bootstrap import build_selectors
from simpletrader.plugins.base import FlowContext

QUIET = """
name: quiet
data:
  symbols: [{symbol: BENCH, source: bench.csv}]
workforce:
  context_worker:
    - {plugin: sma, name: fast, params: {period: 30}}
    - {plugin: sma, name: slow, params: {period: 30}}
  signal_detector: [{plugin: ma_crossover, params: {fast: fast, slow: slow}}]
  strategy_planner: {plugin: signal_to_directive}
"""

PLANNERS = """
name: planners
data:
  symbols: [{symbol: A, source: a.csv}, {symbol: B, source: b.csv}]
workforce:
  strategy_planner: {plugin: signal_to_directive}
  exit_planner: [%s]
"""


def _best(fn: Callable[[], object], number: int, repeat: int) -> float:
    """CPU seconds per call: the best of ``repeat`` rounds of ``number`` calls.

    CPU time of this process, not wall time, so other work on a shared machine does not
    inflate the figure.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - start) / number)
    return best


def _world(n: int = 64) -> tuple[dict[str, Bars], FlowContext]:
    rng = np.random.default_rng(1)
    bars = {}
    for symbol, level in (("A", 100.0), ("B", 50.0)):
        close = level * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
        bars[symbol] = Bars(
            symbol=symbol,
            timestamps=1_700_000_000_000_000_000 + 60_000_000_000 * np.arange(n, dtype=np.int64),
            open=close,
            high=close * 1.001,
            low=close * 0.999,
            close=close,
            volume=np.full(n, 1e6),
            timeframe_seconds=60,
        )
    cache = StrategyCache(bars)
    cache.index = n - 1
    ctx = FlowContext(
        strategy_id="bench",
        cache=cache,
        ledger=Ledger(Decimal(100_000), n_bars=n),
        ids=IdGenerator(1),
        clock=SimulatedClock(int(bars["A"].timestamps[-1]) + 60_000_000_000),
        instruments={s: default_instrument(s) for s in bars},
        bar_seconds=60,
    )
    return bars, ctx


def bench_aggregation(repeat: int) -> list[tuple[str, float]]:
    _, ctx = _world()
    results = []
    cases = (
        ("1 leg", "{plugin: no_exit}", [("A", Side.BUY)]),
        ("2 legs", "{plugin: no_exit}", [("A", Side.BUY), ("B", Side.SELL)]),
        (
            "1 leg + percent exit",
            "{plugin: percent_exit, params: {stop_pct: 0.02}}",
            [("A", Side.BUY)],
        ),
    )
    for label, exit_planner, legs in cases:
        blueprint, _ = load_blueprint_text(PLANNERS % exit_planner)
        aggregator = Aggregator(build_selectors(blueprint.workforce, ctx))
        directive_id = ctx.new_id("STR")
        directive = StrategyDirective(
            directive_id=directive_id,
            strategy_id="bench",
            decision_timestamp=ctx.now,
            causality=CausalityChain(origin_id=ctx.new_id("TCK"), directive_id=directive_id),
            confidence=1.0,
            legs=tuple(
                LegDirective(scope=LegScope.NEW_TRADE, symbol=s, direction=side) for s, side in legs
            ),
        )
        assert not isinstance(aggregator.build(directive, ctx), NotPlanned)
        seconds = _best(lambda: aggregator.build(directive, ctx), 2_000, repeat)  # noqa: B023
        results.append((f"directive -> batch, {label}", seconds * 1e6))
    return results


def bench_planned_flow(repeat: int) -> tuple[str, float]:
    """Planner decision + aggregation + journaling of one signal (execution left out)."""
    from simpletrader.execution.worker import ExecutionWorker
    from simpletrader.pipeline.flow import StrategyFlow
    from simpletrader.plugins.strategy import SignalToDirective

    _, ctx = _world()
    journal = Journal()
    ledger = ctx.ledger
    assert isinstance(ledger, Ledger)

    class NoExecution(ExecutionWorker):
        def submit_batch(self, batch: object, strategy_id: str) -> None:
            return None

    class NullConnector:
        def connect(self, callback: object) -> None:
            return None

    worker = NoExecution(
        ledger,
        journal,
        NullConnector(),
        ctx.ids,
        ctx.clock,
        ctx.instruments,  # type: ignore[arg-type]
        ctx.cache.close,
    )
    blueprint, _ = load_blueprint_text(PLANNERS % "{plugin: no_exit}")
    flow = StrategyFlow(
        ctx,
        [],
        [],
        SignalToDirective(),
        Aggregator(build_selectors(blueprint.workforce, ctx)),
        worker,
    )
    from simpletrader.core.enums import OriginType, SignalDirection
    from simpletrader.dtos import Signal

    def one() -> None:
        signal = Signal(
            signal_id=ctx.new_id("SIG"),
            timestamp=ctx.now,
            symbol="A",
            direction=SignalDirection.LONG,
            signal_type="BENCH",
        )
        flow.run((signal,), (), frozenset({"signal"}), OriginType.TICK)

    seconds = _best(one, 2_000, repeat)
    return "signal -> batch (decide, aggregate, journal), 1 leg", seconds * 1e6


def bench_quiet(n: int, repeat: int) -> list[tuple[str, float]]:
    csv = ensure_csv(n)
    blueprint, _ = load_blueprint_text(QUIET)
    bars = {"BENCH": load_bars(str(csv), symbol="BENCH")}
    market = (bars, {"BENCH": default_instrument("BENCH")}, {"BENCH": str(csv)})
    best_run = float("inf")
    flow_bars = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        run = run_backtest(blueprint, market=market)
        best_run = min(best_run, time.perf_counter() - start)
        assert run.flows == 0
        assert len(run.journal) == 0
    # The strategy's per-bar cost alone: what the engine calls on every bar.
    from simpletrader.backtest import engine as engine_module

    captured: list[object] = []
    original = engine_module.build_strategy

    def capture(*args: object, **kwargs: object) -> object:
        flow = original(*args, **kwargs)  # type: ignore[arg-type]
        captured.append(flow)
        return flow

    # The run frees its facts when it ends; this measurement replays the bars afterwards.
    release = StrategyCache.release
    engine_module.build_strategy = capture  # type: ignore[assignment]
    StrategyCache.release = lambda self: None  # type: ignore[method-assign]
    try:
        run_backtest(blueprint, market=market)
    finally:
        engine_module.build_strategy = original
        StrategyCache.release = release  # type: ignore[method-assign]
    flow = captured[0]
    cache = flow.ctx.cache  # type: ignore[attr-defined]
    on_close = flow.on_bar_close  # type: ignore[attr-defined]
    best_flow = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(n):
            cache.index = i
            on_close()
        best_flow = min(best_flow, time.perf_counter() - start)
    flow_bars = n / best_flow
    return [
        ("quiet bars: on_bar_close alone, bars/s", flow_bars),
        ("quiet bars: on_bar_close alone, ns/bar", best_flow / n * 1e9),
        ("quiet bars: whole run_backtest (data preloaded), bars/s", n / best_run),
        ("quiet bars: whole run_backtest, s", best_run),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows: list[tuple[str, float]] = []
    rows.extend(bench_aggregation(args.repeat))
    rows.append(bench_planned_flow(args.repeat))
    rows.extend(bench_quiet(args.bars, max(1, min(args.repeat, 3))))
    width = max(len(label) for label, _ in rows)
    print(f"pipeline benchmark ({args.bars:,} quiet bars, best of {args.repeat})")
    for label, value in rows:
        unit = "µs CPU" if label.startswith(("directive", "signal")) else ""
        print(f"  {label:<{width}}  {value:>14,.2f} {unit}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
