"""The backtest engine: one deterministic run of a blueprint over historical bars.

Per bar b (DESIGN.md §4): deadlines at b's open; matching at b's open and through its range;
fills update the ledger; the pipeline runs on b's close; ``fill_on_close`` orders fill at b's
close; equity is marked at b's close. A bar on which nothing fires costs a few attribute reads.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from simpletrader.config.blueprint import Blueprint, SymbolSpec
from simpletrader.core.cache import StrategyCache
from simpletrader.core.clock import SimulatedClock, datetime_to_ns, ns_to_datetime
from simpletrader.core.enums import BatchExecutionMode, GroupStatus
from simpletrader.core.errors import ConfigError, DataError
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator, new_run_id
from simpletrader.data import Bars, Instrument, align, default_instrument, load_bars, resample
from simpletrader.data.resampling import parse_timeframe
from simpletrader.data.samples import SAMPLE_NAMES
from simpletrader.dtos import ExecutionCommandBatch
from simpletrader.execution.connectors.simulated import NEVER_NS, SimulatedVenue
from simpletrader.execution.factory import build_execution, default_policy
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.events import BatchEnded
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.store import headline_figures, start_recording
from simpletrader.pipeline.bootstrap import build_strategy
from simpletrader.pipeline.flow import StrategyFlow
from simpletrader.plugins.base import FlowContext

logger = logging.getLogger(__name__)


Progress = Callable[[int, int], None]


class BatchLog:
    """Batch outcomes as they happen, so a summary never has to re-read the journal.

    Subscribed to ``BatchEnded`` on the run's bus: the cost is one call per ended batch. A
    million-bar run ends tens of thousands of batches, so they are kept as columns rather than
    events: ids, end times, a code per (mode, status), and the failing command and reason of
    the few batches that have them.
    """

    __slots__ = ("_at", "_codes", "_details", "_ids", "_kinds")

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._at = array("q")
        self._codes = array("B")
        self._kinds: dict[tuple[BatchExecutionMode, GroupStatus], int] = {}
        self._details: dict[int, tuple[str | None, str | None]] = {}

    def on_batch_ended(self, event: BatchEnded) -> None:
        kind = (event.mode, event.status)
        code = self._kinds.setdefault(kind, len(self._kinds))
        if event.failed_command_id is not None or event.reason is not None:
            self._details[len(self._ids)] = (event.failed_command_id, event.reason)
        self._ids.append(event.batch_id)
        self._at.append(event.at)
        self._codes.append(code)

    @property
    def ended(self) -> list[BatchEnded]:
        """Every ``BatchEnded`` event, in the order the batches ended (rebuilt on each call)."""
        kinds = list(self._kinds)
        events = []
        for i, batch_id in enumerate(self._ids):
            mode, status = kinds[self._codes[i]]
            failed_command_id, reason = self._details.get(i, (None, None))
            events.append(
                BatchEnded(
                    at=self._at[i],
                    batch_id=batch_id,
                    mode=mode,
                    status=status,
                    failed_command_id=failed_command_id,
                    reason=reason,
                )
            )
        return events

    def counts(self) -> dict[tuple[BatchExecutionMode, GroupStatus], int]:
        """How many batches ended, per (mode, status) that occurred."""
        tally = Counter(self._codes)
        return {kind: tally[code] for kind, code in self._kinds.items()}


@dataclass(slots=True)
class BacktestRun:
    """Everything a finished run holds; ``backtest.result`` turns it into user-facing tables.

    ``bars`` and the ledger's equity curve cover every bar the run loaded, its ``warmup`` bars
    in front: bars context workers saw but the strategy did not trade on (no flow ran). The
    figures here (``n_bars``, ``start``, ``end``, ``equity_curve``) describe the traded period,
    the bars from ``warmup`` on, as every report does. ``engine_seconds`` is the wall time of
    the run itself: from the loaded data to the run's hash (bootstrap, every bar, the journal).
    """

    blueprint: Blueprint
    run_id: str
    seed: int
    bars: dict[str, Bars]
    instruments: dict[str, Instrument]
    ledger: Ledger
    journal: Journal
    run_hash: str
    flows: int
    data_sources: dict[str, str] = field(default_factory=dict)
    batch_log: BatchLog = field(default_factory=BatchLog)
    open_batches: tuple[ExecutionCommandBatch, ...] = ()
    warmup: int = 0
    engine_seconds: float = 0.0

    @property
    def n_bars(self) -> int:
        """Bars traded: those loaded, less the warm-up."""
        return len(next(iter(self.bars.values()))) - self.warmup

    @property
    def start(self) -> datetime:
        """Open time of the first traded bar: the first bar after the warm-up."""
        return ns_to_datetime(int(next(iter(self.bars.values())).timestamps[self.warmup]))

    @property
    def end(self) -> datetime:
        return ns_to_datetime(int(next(iter(self.bars.values())).timestamps[-1]))

    @property
    def final_equity(self) -> float:
        return float(self.ledger.equity_curve[-1])

    @property
    def traded_bars(self) -> dict[str, Bars]:
        """Per symbol, the bars of the traded period (views, no copy)."""
        if not self.warmup:
            return self.bars
        return {s: _slice_bars(b, self.warmup, len(b)) for s, b in self.bars.items()}

    @property
    def equity_curve(self) -> npt.NDArray[np.float64]:
        """Equity at the close of each traded bar (a view of the ledger's curve)."""
        return self.ledger.equity_curve[self.warmup :]


def resolve_source(source: str, base_dir: Path | None) -> str:
    """A sample name as is; a relative path against the blueprint's folder when it exists there."""
    if source in SAMPLE_NAMES:
        return source
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        return str(base_dir / path)
    if not path.exists():
        samples = ", ".join(SAMPLE_NAMES)
        raise DataError(f"data file not found: {source} (or use a bundled sample: {samples})")
    return str(path)


def _instrument(spec: SymbolSpec) -> Instrument:
    base = default_instrument(spec.symbol)
    overrides = {
        k: v
        for k in ("tick_size", "lot_size", "min_notional", "multiplier", "currency")
        if (v := getattr(spec, k)) is not None
    }
    if not overrides:
        return base
    return Instrument(**{**base.model_dump(), **overrides})


def _parse_time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"data.{what}: {value!r} is not an ISO date such as 2010-01-31") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _slice_bars(bars: Bars, begin: int, stop: int) -> Bars:
    return dataclasses.replace(
        bars,
        timestamps=bars.timestamps[begin:stop],
        open=bars.open[begin:stop],
        high=bars.high[begin:stop],
        low=bars.low[begin:stop],
        close=bars.close[begin:stop],
        volume=bars.volume[begin:stop],
    )


def load_market_data(
    blueprint: Blueprint,
    base_dir: Path | None = None,
    data_overrides: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
) -> tuple[dict[str, Bars], dict[str, Instrument], dict[str, str]]:
    specs = blueprint.data.symbols
    if data_overrides and len(data_overrides) != len(specs):
        raise ConfigError(
            f"--data was given {len(data_overrides)} time(s) but the blueprint trades "
            f"{len(specs)} symbol(s) ({', '.join(s.symbol for s in specs)}); give one per symbol"
        )
    loaded: list[Bars] = []
    sources: dict[str, str] = {}
    for i, spec in enumerate(specs):
        if data_overrides:
            source = resolve_source(data_overrides[i], None)
        else:
            source = resolve_source(spec.source, base_dir)
        sources[spec.symbol] = source
        bars_i = load_bars(source, symbol=spec.symbol, label=spec.label)
        timeframe = blueprint.data.timeframe
        if timeframe is not None and bars_i.timeframe_seconds != parse_timeframe(timeframe):
            bars_i = resample(bars_i, timeframe)
        loaded.append(bars_i)
    aligned = align(loaded) if len(loaded) > 1 else tuple(loaded)
    t0 = _parse_time(start or blueprint.data.start, "start")
    t1 = _parse_time(end or blueprint.data.end, "end")
    if t0 is not None or t1 is not None:
        first = aligned[0]
        # Warm-up bars come from before ``start``: workers see them, the strategy does not trade.
        begin = 0
        if t0 is not None:
            begin = int(np.searchsorted(first.timestamps, datetime_to_ns(t0)))
            if begin == len(first):
                raise DataError(
                    f"{first.source}: start {start or blueprint.data.start} is after the last "
                    f"bar ({first.datetime_at(-1).isoformat()})"
                )
            begin = max(0, begin - blueprint.data.warmup_bars)
        stop = len(first)
        if t1 is not None:
            # The end is inclusive: a bare date keeps that whole day, a time keeps its bar.
            end_text = str(end or blueprint.data.end)
            if len(end_text) == 10:
                stop = int(
                    np.searchsorted(first.timestamps, datetime_to_ns(t1 + timedelta(days=1)))
                )
            else:
                stop = int(np.searchsorted(first.timestamps, datetime_to_ns(t1), side="right"))
        aligned = tuple(_slice_bars(b, begin, stop) for b in aligned)
    if len(aligned[0]) < 2:
        raise DataError(f"{aligned[0].source}: fewer than 2 bars in the selected period")
    bars = {b.symbol: b for b in aligned}
    instruments = {spec.symbol: _instrument(spec) for spec in specs}
    return bars, instruments, sources


def warmup_of(blueprint: Blueprint, bars: Bars, start: str | None = None) -> int:
    """How many of ``bars`` are warm-up: with a start (``start``, else ``data.start``) the bars
    before it, which :func:`load_market_data` limits to ``data.warmup_bars`` (fewer when the
    data has fewer); without one, the first ``data.warmup_bars`` bars."""
    t0 = _parse_time(start or blueprint.data.start, "start")
    if t0 is None:
        return blueprint.data.warmup_bars
    return int(np.searchsorted(bars.timestamps, datetime_to_ns(t0)))


def run_backtest(
    blueprint: Blueprint,
    *,
    base_dir: Path | None = None,
    data_overrides: Sequence[str] = (),
    seed: int | None = None,
    start: str | None = None,
    end: str | None = None,
    progress: Progress | None = None,
    bus: EventBus | None = None,
    market: tuple[dict[str, Bars], dict[str, Instrument], dict[str, str]] | None = None,
    store: str | Path | None = None,
    keep_journal: bool = True,
) -> BacktestRun:
    """Run ``blueprint`` and return the finished run.

    ``start``/``end`` (else the blueprint's) select the bars to load. A ready ``market`` is run
    whole; its bars before ``start`` (else ``data.start``) are the warm-up, as if loaded here.

    With ``store`` (a SQLite file, created if absent) the run is recorded there as it goes:
    whole bars, committed together at least every quarter second (so a killed run keeps an
    exact prefix of its bars), then its headline figures.
    ``keep_journal=False`` keeps only the journal's hash in memory (the store, if any, still
    has every entry): for callers that never read the entries back.
    """
    run_id = new_run_id()  # before the run, outside the seeded streams
    bars, instruments, sources = market or load_market_data(
        blueprint, base_dir, data_overrides, start, end
    )
    started = time.perf_counter()
    seed = blueprint.seed if seed is None else seed
    bus = bus if bus is not None else EventBus()
    batch_log = BatchLog()
    bus.subscribe(BatchEnded, batch_log.on_batch_ended)
    primary = next(iter(bars.values()))
    n = len(primary)
    bar_seconds = primary.timeframe_seconds or 60
    bar_ns = bar_seconds * 1_000_000_000

    clock = SimulatedClock(int(primary.timestamps[0]))
    ids = IdGenerator(seed)
    journal = Journal(keep_entries=keep_journal)
    ledger = Ledger(
        blueprint.account.starting_cash,
        {s: i.multiplier for s, i in instruments.items()},
        n_bars=n,
    )
    closes = {s: b.close.data for s, b in bars.items()}
    ledger.attach_prices(closes)
    cache = StrategyCache(bars)
    venue, worker = build_execution(
        blueprint,
        bars,
        instruments,
        ledger,
        journal,
        ids,
        clock,
        cache.close,
        bus,
        bar_seconds,
        seed,
    )
    ctx = FlowContext(
        strategy_id=blueprint.name,
        cache=cache,
        ledger=ledger,
        ids=ids,
        clock=clock,
        instruments=instruments,
        default_policy=default_policy(blueprint, bar_seconds),
    )
    warmup = warmup_of(blueprint, primary, start)
    flow = build_strategy(blueprint, cache, bars, ctx, worker, warmup=warmup)

    recorder = None
    if store is not None:
        recorder = start_recording(
            store,
            run_id=run_id,
            blueprint=blueprint,
            blueprint_name=blueprint.name,
            seed=seed,
            data_sources=sources,
            instruments=instruments,
            starting_cash=blueprint.account.starting_cash,
            bars=bars,
            facts=cache,
        )
        journal.add_sink(recorder, durable=True)
    # The run allocates many small, acyclic records; the default collector thresholds would
    # rescan them all over and over. Freeze what bootstrap built and collect rarely.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1_000)
    try:
        _loop(primary, cache, clock, worker, venue, flow, ledger, journal, bar_ns, progress)
    except BaseException as exc:
        if recorder is not None:
            recorder.fail(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    if recorder is not None:
        recorder.finish(journal.run_hash, len(journal), headline_figures(ledger, len(journal)))
    cache.release()

    run_hash = journal.run_hash  # waits for the journal's background work: part of the run
    return BacktestRun(
        blueprint=blueprint,
        run_id=run_id,
        seed=seed,
        bars=bars,
        instruments=instruments,
        ledger=ledger,
        journal=journal,
        run_hash=run_hash,
        flows=flow.flows,
        data_sources=sources,
        batch_log=batch_log,
        open_batches=tuple(b.batch for b in worker.coordinator.active.values()),
        warmup=warmup,
        engine_seconds=time.perf_counter() - started,
    )


def _loop(
    primary: Bars,
    cache: StrategyCache,
    clock: SimulatedClock,
    worker: ExecutionWorker,
    venue: SimulatedVenue,
    flow: StrategyFlow,
    ledger: Ledger,
    journal: Journal,
    bar_ns: int,
    progress: Progress | None,
) -> None:
    """Run every bar in the order of DESIGN.md §4.

    Bars on which nothing can happen are skipped: no order working, no batch unsettled, no
    position to manage, no schedule due, and no detector whose pre-filter admits the bar. Their
    equity is marked in one vectorised step; everything else about them is exactly as if each
    had been run (nothing would have fired).
    """
    n = len(primary)
    timestamps = np.ascontiguousarray(primary.timestamps, dtype=np.int64)
    opens_ns = timestamps.data
    coordinator = worker.coordinator
    set_clock = clock.set
    on_close = flow.on_bar_close
    mark = ledger.mark
    end_bar = journal.end_bar
    fill_on_close = worker.fill_on_close
    visits = flow.visit_bars(n)
    candidates = visits.data if visits is not None else None
    n_candidates = len(visits) if visits is not None else 0
    position_trigger = flow.position_trigger
    strategy_id = flow.ctx.strategy_id
    open_plans = ledger.open_plans
    step = max(1, n // 100)
    next_report = 0
    k = 0  # position in ``candidates`` of the first candidate not yet passed
    i = 0
    while i < n:
        open_ns = opens_ns[i]
        set_clock(open_ns)
        if coordinator.busy:
            worker.on_bar_open(open_ns)
        if open_ns >= venue.next_charge_ns:
            venue.charge_carry(i)
        if venue.has_working:
            venue.match_open(i)
        cache.index = i
        close_ns = open_ns + bar_ns
        set_clock(close_ns)
        on_close()
        if fill_on_close and venue.has_working:
            venue.match_close(i, close_ns)
        mark(i)
        end_bar(i)
        if progress is not None and i >= next_report:
            progress(i, n)
            next_report = (i // step + 1) * step
        i += 1
        if (
            candidates is None
            or coordinator.busy
            or venue.has_working
            or (position_trigger and open_plans(strategy_id))
        ):
            continue
        while k < n_candidates and candidates[k] < i:
            k += 1
        nxt = candidates[k] if k < n_candidates else n
        if venue.next_charge_ns < NEVER_NS:
            nxt = min(nxt, int(np.searchsorted(timestamps, venue.next_charge_ns)))
        if nxt > i:
            ledger.mark_range(i, nxt)
            i = nxt
    if progress is not None:
        progress(n, n)
