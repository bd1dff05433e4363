"""Bootstrap: plugins from the blueprint, facts checked causal, planner selectors."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import ValidationError

from simpletrader.config.blueprint import Blueprint, PluginSpec, Workforce
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
    """Create one plugin, validating its params (``ConfigError`` names the field)."""
    try:
        cls = lookup(role, spec.plugin)
    except PluginError as exc:
        raise ConfigError(f"{where}.plugin: {exc}") from None
    try:
        params = cls.Params.model_validate(spec.params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}.params.{'.'.join(str(p) for p in e['loc'])}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            + (f" (got {e['input']!r})" if e["type"] != "missing" else "")
            for e in exc.errors()
        )
        known = ", ".join(cls.Params.model_fields) or "none"
        raise ConfigError(f"{problems} [params of {spec.plugin}: {known}]") from None
    return cls(params, spec.instance_name)


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


def compute_facts(
    worker: ContextWorker, bars: Mapping[str, Bars], where: str
) -> dict[str, np.ndarray]:
    """Run a context worker over the history and admit its facts only if they are causal.

    Causal means ``f(x[:k]) == f(x)[:k]`` for sampled k: a value never depends on later bars.
    """
    n = len(next(iter(bars.values())))
    try:
        full = {key: np.asarray(v, dtype=np.float64) for key, v in worker.compute(bars).items()}
    except Exception as exc:
        raise PluginError(f"{where} ({worker.plugin_name}) failed to compute: {exc}") from exc
    for key, values in full.items():
        if values.shape != (n,):
            raise PluginError(
                f"{where} ({worker.plugin_name}) returned {key!r} of shape {values.shape}; "
                f"expected ({n},)"
            )
    for k in _sample_points(n):
        partial = worker.compute(_slice(bars, k))
        for key, values in full.items():
            head = np.asarray(partial[key], dtype=np.float64)
            if not np.allclose(head, values[:k], rtol=1e-9, atol=0.0, equal_nan=True):
                bad = int(np.flatnonzero(~np.isclose(head, values[:k], equal_nan=True))[0])
                raise PluginError(
                    f"{where} ({worker.plugin_name}) is not causal: fact {key!r} at bar {bad} "
                    f"changes when bars after {k - 1} are hidden (it looks ahead); refused"
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
        for name, values in compute_facts(worker, bars, where).items():
            cache.add_fact(name, values)
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
