"""Bootstrap: plugins from the blueprint, facts checked causal, planner selectors."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from simpletrader.config.blueprint import Blueprint, PluginSpec, Workforce
from simpletrader.config.messages import format_errors
from simpletrader.config.source import SourceMap, locate
from simpletrader.core.cache import StrategyCache
from simpletrader.core.errors import ConfigError, PluginError
from simpletrader.data.bars import Bars
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.pipeline.aggregation import Aggregator
from simpletrader.pipeline.flow import StrategyFlow
from simpletrader.pipeline.schedule import fire_bars
from simpletrader.pipeline.selection import RangedPlugin, RoleSelector
from simpletrader.plugins.base import (
    ContextWorker,
    FlowContext,
    Plugin,
    RiskMonitor,
    SignalDetector,
    StrategyPlanner,
)
from simpletrader.plugins.registry import lookup

PLANNING_ROLES = ("entry_planner", "exit_planner", "size_planner", "execution_planner")


def instantiate(role: str, spec: PluginSpec, where: str) -> Plugin:
    """Create one plugin, validating its params.

    ``where`` is the spec's path (``workforce.signal_detector.0``); a ConfigError names it,
    with the file and line when the spec was read from a file, as
    ``file:line: workforce.signal_detector.0.params.fast: message (got value)``.
    """
    source = spec.source_map
    try:
        cls = lookup(role, spec.plugin)
    except PluginError as exc:
        raise ConfigError(f"{locate(source, f'{where}.plugin')}: {exc}") from None
    try:
        params = cls.Params.model_validate(spec.params)
    except ValidationError as exc:
        prefix = (*where.split("."), "params")
        raise ConfigError(format_errors(exc, cls.Params, source, prefix)) from None
    try:
        return cls(params, spec.instance_name)
    except Exception as exc:
        raise PluginError(
            f"{locate(source, where)}: {role} plugin {spec.plugin!r} failed to start: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _slice(bars: Mapping[str, Bars], k: int) -> dict[str, Bars]:
    return {
        s: dataclasses.replace(
            b,
            timestamps=b.timestamps[:k],
            open=b.open[:k],
            high=b.high[:k],
            low=b.low[:k],
            close=b.close[:k],
            volume=b.volume[:k],
        )
        for s, b in bars.items()
    }


def _sample_points(n: int) -> list[int]:
    points = {min(n - 1, 2), n // 7, n // 3, n // 2, (3 * n) // 4, n - 1}
    return sorted(k for k in points if 1 <= k < n)


def _compute(worker: ContextWorker, bars: Mapping[str, Bars], label: str) -> dict[str, np.ndarray]:
    try:
        result = worker.compute(bars)
        return {key: np.asarray(v, dtype=np.float64) for key, v in result.items()}
    except Exception as exc:
        n = len(next(iter(bars.values())))
        raise PluginError(
            f"{label} failed to compute on {n} bars: {type(exc).__name__}: {exc}"
        ) from exc


def compute_facts(
    worker: ContextWorker,
    bars: Mapping[str, Bars],
    where: str,
    source: SourceMap | None = None,
) -> dict[str, np.ndarray]:
    """Run a context worker over the history and admit its facts only if they are causal.

    Causal means ``f(x[:k]) == f(x)[:k]`` for sampled k (within 1e-9 relative, NaN equal to
    NaN): a value never depends on later bars. A worker that looks ahead is refused with a
    PluginError naming it (``where``, with file and line from ``source``), the fact and the
    first bar that changes.

    The arrays returned are the caller's alone: one the worker still holds, or views memory
    it holds, is copied, so the worker cannot change an admitted fact afterwards.
    """
    label = f"{locate(source, where)} ({worker.plugin_name} {worker.name!r})"
    full = _compute(worker, bars, label)
    _check_shapes(full, len(next(iter(bars.values()))), label)
    _check_causal(worker, bars, full, label)
    return {
        (worker.name if key == "value" else f"{worker.name}.{key}"): values
        for key, values in _unshared(full).items()
    }


def _check_shapes(full: Mapping[str, np.ndarray], n: int, label: str) -> None:
    for key, values in full.items():
        if values.shape != (n,):
            raise PluginError(
                f"{label} returned {key!r} of shape {values.shape}; expected ({n},), one value "
                f"per bar"
            )


def _check_causal(
    worker: ContextWorker, bars: Mapping[str, Bars], full: Mapping[str, np.ndarray], label: str
) -> None:
    n = len(next(iter(bars.values())))
    for k in _sample_points(n):
        partial = _compute(worker, _slice(bars, k), label)
        if set(partial) != set(full):
            raise PluginError(
                f"{label} returns facts {sorted(full)} on all {n} bars but {sorted(partial)} on "
                f"the first {k}; a worker must return the same facts for any history"
            )
        _compare_prefix(partial, full, k, n, label)
        # Before the next, longer prefix is computed: two would be alive at once.
        del partial


def _compare_prefix(
    partial: Mapping[str, np.ndarray], full: Mapping[str, np.ndarray], k: int, n: int, label: str
) -> None:
    for key, values in full.items():
        head = partial[key]
        if head.shape != (k,):
            raise PluginError(
                f"{label} returned {key!r} of shape {head.shape} for {k} bars; expected ({k},)"
            )
        bad = _first_difference(head, values)
        if bad is not None:
            raise PluginError(
                f"{label} is not causal: fact {key!r} at bar {bad} is {values[bad]!r} with "
                f"all {n} bars but {head[bad]!r} when bars after {k - 1} are hidden, so it "
                f"reads later bars (look-ahead); refused"
            )


_BLOCK = 1 << 16


def _first_difference(head: np.ndarray, values: np.ndarray) -> int | None:
    """The first bar where ``head`` differs from the start of ``values`` by more than 1e-9
    relative (NaN equal to NaN), or None.

    Block by block and exactly first, the tolerance only for a block that is not identical: a
    million-bar fact is checked without bars-long temporaries.
    """
    k = len(head)
    for lo in range(0, k, _BLOCK):
        hi = min(lo + _BLOCK, k)
        a, b = head[lo:hi], values[lo:hi]
        if np.array_equal(a, b, equal_nan=True):
            continue
        same = np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
        if not same.all():
            return lo + int(np.flatnonzero(~same)[0])
    return None


def _unshared(full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``full``'s arrays (the dict is emptied), each copied unless nothing else refers to it or
    to the arrays it views.

    A worker that kept its result could change a fact after admission through it; a fresh
    result is a bars-long array not worth copying. Reference counts tell them apart; the two
    baselines are measured here, so they hold however the interpreter counts a local name.
    """
    probe = np.empty(1)
    view = probe[:]
    alone = sys.getrefcount(view)  # one local name
    viewed = sys.getrefcount(probe)  # one local name and the view's base
    owned: dict[str, np.ndarray] = {}
    for key in list(full):
        array = full.pop(key)
        shared = sys.getrefcount(array) > alone
        base = array.base
        while base is not None and not shared:
            shared = not isinstance(base, np.ndarray) or sys.getrefcount(base) > viewed
            base = None if shared else base.base
        owned[key] = array.copy() if shared else array
    return owned


def add_context(
    cache: StrategyCache, specs: Sequence[PluginSpec], bars: Mapping[str, Bars]
) -> list[ContextWorker]:
    workers = []
    names: set[str] = set()
    for i, spec in enumerate(specs):
        where = f"workforce.context_worker.{i}"
        if spec.instance_name in names:
            raise ConfigError(
                f"{where}.name: {spec.instance_name!r} is used twice; give each worker a name"
            )
        names.add(spec.instance_name)
        worker = instantiate("context_worker", spec, where)
        assert isinstance(worker, ContextWorker)
        for name, values in compute_facts(worker, bars, where, spec.source_map).items():
            cache.add_fact(name, values, producer=worker.name, owned=True)
        workers.append(worker)
    return workers


def build_selectors(
    workforce: Workforce, ctx: FlowContext | None = None
) -> dict[str, RoleSelector]:
    """One selector per planning role; with ``ctx``, every plugin's ``setup`` hook runs."""
    selectors = {}
    for role in PLANNING_ROLES:
        specs: tuple[PluginSpec, ...] = getattr(workforce, role)
        entries = []
        for i, spec in enumerate(specs):
            plugin = instantiate(role, spec, f"workforce.{role}.{i}")
            if ctx is not None:
                _setup(plugin, ctx, f"workforce.{role}.{i}")
            lo, hi = spec.confidence
            entries.append(RangedPlugin(lo, hi, plugin, f"{spec.instance_name} (#{i})"))
        selectors[role] = RoleSelector(role, entries)
    return selectors


def _setup(plugin: Plugin, ctx: FlowContext, where: str) -> None:
    """Run a plugin's bootstrap hook; a ``ValueError`` becomes a ``ConfigError`` naming it."""
    try:
        plugin.setup(ctx)
    except ValueError as exc:
        raise ConfigError(f"{where}.params ({plugin.plugin_name}): {exc}") from None


def _schedule_bars(
    planner: StrategyPlanner, bars: Mapping[str, Bars], bar_seconds: int, warmup: int
) -> npt.NDArray[np.int64]:
    cron = planner.schedule
    if cron is None:
        return np.empty(0, dtype=np.int64)
    primary = next(iter(bars.values()))
    try:
        return fire_bars(cron, primary.timestamps, bar_seconds * 1_000_000_000, first=warmup)
    except ValueError as exc:
        raise ConfigError(
            f"workforce.strategy_planner ({planner.plugin_name}): {exc}; use 5 fields "
            "'minute hour day month weekday' (UTC) or @daily, @weekly, @monthly"
        ) from None


def build_strategy(
    blueprint: Blueprint,
    cache: StrategyCache,
    bars: Mapping[str, Bars],
    ctx: FlowContext,
    worker: ExecutionWorker,
    warmup: int | None = None,
) -> StrategyFlow:
    """Wire one strategy's workforce from its blueprint: facts, detectors, planner, planners.

    Sets ``ctx.bar_seconds``, runs every plugin's ``setup`` hook, computes the planner's
    schedule fire bars, and keeps the first ``warmup`` bars of the data flow-free: the bars
    actually put before the start (``backtest.engine.warmup_of``), by default
    ``data.warmup_bars``.
    """
    wf = blueprint.workforce
    primary = next(iter(bars.values()))
    ctx.bar_seconds = primary.timeframe_seconds or 60
    n = len(primary)
    if warmup is None:
        warmup = blueprint.data.warmup_bars
    if warmup >= n:
        raise ConfigError(
            f"data.warmup_bars: {warmup} leaves no bar to trade; the data has {n} bars"
        )
    add_context(cache, wf.context_worker, bars)
    detectors: list[SignalDetector] = []
    for i, spec in enumerate(wf.signal_detector):
        where = f"workforce.signal_detector.{i}"
        detector = instantiate("signal_detector", spec, where)
        assert isinstance(detector, SignalDetector)
        _setup(detector, ctx, where)
        detectors.append(detector)
    monitors: list[RiskMonitor] = []
    for i, spec in enumerate(wf.risk_monitor):
        where = f"workforce.risk_monitor.{i}"
        monitor = instantiate("risk_monitor", spec, where)
        assert isinstance(monitor, RiskMonitor)
        _setup(monitor, ctx, where)
        monitors.append(monitor)
    where = "workforce.strategy_planner"
    planner = instantiate("strategy_planner", wf.strategy_planner, where)
    assert isinstance(planner, StrategyPlanner)
    _setup(planner, ctx, where)
    return StrategyFlow(
        ctx,
        detectors,
        monitors,
        planner,
        Aggregator(build_selectors(wf, ctx)),
        worker,
        warmup=warmup,
        schedule_bars=_schedule_bars(planner, bars, ctx.bar_seconds, warmup),
    )
