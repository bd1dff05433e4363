"""Bootstrap: plugins from the blueprint, facts checked causal, planner selectors."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
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
    """
    label = f"{locate(source, where)} ({worker.plugin_name} {worker.name!r})"
    n = len(next(iter(bars.values())))
    full = _compute(worker, bars, label)
    for key, values in full.items():
        if values.shape != (n,):
            raise PluginError(
                f"{label} returned {key!r} of shape {values.shape}; expected ({n},), one value "
                f"per bar"
            )
    for k in _sample_points(n):
        partial = _compute(worker, _slice(bars, k), label)
        if set(partial) != set(full):
            raise PluginError(
                f"{label} returns facts {sorted(full)} on all {n} bars but {sorted(partial)} on "
                f"the first {k}; a worker must return the same facts for any history"
            )
        for key, values in full.items():
            head = partial[key]
            if head.shape != (k,):
                raise PluginError(
                    f"{label} returned {key!r} of shape {head.shape} for {k} bars; expected ({k},)"
                )
            same = np.isclose(head, values[:k], rtol=1e-9, atol=1e-12, equal_nan=True)
            if not same.all():
                bad = int(np.flatnonzero(~same)[0])
                raise PluginError(
                    f"{label} is not causal: fact {key!r} at bar {bad} is {values[bad]!r} with "
                    f"all {n} bars but {head[bad]!r} when bars after {k - 1} are hidden, so it "
                    f"reads later bars (look-ahead); refused"
                )
    return {
        (worker.name if key == "value" else f"{worker.name}.{key}"): values
        for key, values in full.items()
    }


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
            cache.add_fact(name, values, producer=worker.name)
        workers.append(worker)
    return workers


def build_selectors(workforce: Workforce) -> dict[str, RoleSelector]:
    selectors = {}
    for role in PLANNING_ROLES:
        specs: tuple[PluginSpec, ...] = getattr(workforce, role)
        entries = []
        for i, spec in enumerate(specs):
            plugin = instantiate(role, spec, f"workforce.{role}.{i}")
            lo, hi = spec.confidence
            entries.append(RangedPlugin(lo, hi, plugin, f"{spec.instance_name} (#{i})"))
        selectors[role] = RoleSelector(role, entries)
    return selectors


def build_strategy(
    blueprint: Blueprint,
    cache: StrategyCache,
    bars: Mapping[str, Bars],
    ctx: FlowContext,
    worker: ExecutionWorker,
) -> StrategyFlow:
    """Wire one strategy's workforce from its blueprint: facts, detectors, planner, planners."""
    wf = blueprint.workforce
    add_context(cache, wf.context_worker, bars)
    detectors = [
        instantiate("signal_detector", s, f"workforce.signal_detector.{i}")
        for i, s in enumerate(wf.signal_detector)
    ]
    monitors = [
        instantiate("risk_monitor", s, f"workforce.risk_monitor.{i}")
        for i, s in enumerate(wf.risk_monitor)
    ]
    planner = instantiate("strategy_planner", wf.strategy_planner, "workforce.strategy_planner")
    assert isinstance(planner, StrategyPlanner)
    return StrategyFlow(
        ctx,
        [d for d in detectors if isinstance(d, SignalDetector)],
        [m for m in monitors if isinstance(m, RiskMonitor)],
        planner,
        Aggregator(build_selectors(wf)),
        worker,
    )
