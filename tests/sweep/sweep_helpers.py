"""Helpers shared by the sweep tests: the bundled GOOG example, and backtests run alone
(without sweep code) to compare sweep rows against."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.loader import parse_blueprint

EXAMPLE = Path(__file__).parents[2] / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"

FAST = "workforce.context_worker.0.params.period"
SLOW = "workforce.context_worker.1.params.period"
# Eight points: the fast SMA x the slow SMA of the example strategy.
GRID: dict[str, list[int]] = {FAST: [5, 10, 15, 20], SLOW: [30, 50]}


def edited_blueprint_text(changes: Mapping[str, Any], base: Path = EXAMPLE) -> str:
    """The example's YAML with ``changes`` ({dotted path: value}) written in by hand."""
    raw = yaml.safe_load(base.read_text(encoding="utf-8"))
    for path, value in changes.items():
        node: Any = raw
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return yaml.safe_dump(raw, sort_keys=False)


def backtest_alone(changes: Mapping[str, Any], **kwargs: Any) -> BacktestRun:
    """The example with ``changes``, as one ordinary backtest."""
    blueprint = parse_blueprint(edited_blueprint_text(changes))
    return run_backtest(blueprint, base_dir=EXAMPLE.parent, **kwargs)


def run_alone(changes: Mapping[str, Any], **kwargs: Any) -> str:
    """The run_hash of the example with ``changes``, as one ordinary backtest."""
    return backtest_alone(changes, **kwargs).run_hash


def alone_hashes() -> dict[tuple[int, int], str]:
    """run_hash of each GRID point run alone, keyed by (fast, slow)."""
    return {
        (fast, slow): run_alone({FAST: fast, SLOW: slow})
        for fast in GRID[FAST]
        for slow in GRID[SLOW]
    }
