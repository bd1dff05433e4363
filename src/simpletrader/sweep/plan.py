"""From a blueprint, swept parameters and symbols to validated blueprints and loaded markets.

Everything here runs before the first backtest, so a bad path, value, symbol or data file is
reported before any work is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simpletrader.backtest.engine import load_market_data
from simpletrader.config.blueprint import Blueprint
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import ConfigError, SimpleTraderError
from simpletrader.sweep.grid import ParamAxis, axes_from, grid_points
from simpletrader.sweep.overrides import (
    apply_overrides,
    resolve_sources,
    symbol_source,
    with_symbol,
)
from simpletrader.sweep.tasks import Market, market_key

BlueprintInput = Blueprint | str | Path


@dataclass(frozen=True, slots=True)
class Variant:
    """One grid point for one symbol: its overrides and the validated blueprint they give."""

    symbol: str | None
    point: Mapping[str, Any]
    blueprint: Blueprint


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """Variants in run order (symbol-major, then grid order), the swept paths and the label
    columns (``symbol`` when sweeping symbols)."""

    axes: tuple[ParamAxis, ...]
    variants: tuple[Variant, ...]
    labels: tuple[str, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(a.path for a in self.axes)


def load_input(blueprint: BlueprintInput, base_dir: Path | None) -> tuple[Blueprint, Path | None]:
    """A blueprint and the folder its relative data paths are read from."""
    if isinstance(blueprint, Blueprint):
        return blueprint, base_dir
    path = Path(blueprint)
    return load_blueprint(path), base_dir or path.resolve().parent


def plan_sweep(
    blueprint: BlueprintInput,
    params: Mapping[str, Any] | Iterable[ParamAxis] | None = None,
    *,
    random: int | None = None,
    seed: int = 0,
    symbols: Sequence[str] = (),
    data: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
    base_dir: Path | None = None,
) -> SweepPlan:
    """Validate everything and build one blueprint per (symbol, grid point).

    ConfigError names the path, value or symbol at fault and what would be valid.
    """
    bp, base_dir = load_input(blueprint, base_dir)
    if symbols and data:
        raise ConfigError("--symbols and --data both choose the data; give one of them")
    bp = resolve_sources(bp, base_dir, data, start, end)
    axes = tuple(axes_from(params or {}))
    if symbols:
        clashing = [a.path for a in axes if a.path.startswith("data.symbols")]
        if clashing:
            raise ConfigError(
                f"--symbols replaces data.symbols, so {clashing[0]!r} cannot be swept with it"
            )
    points = grid_points(axes, random, seed)
    bases: list[tuple[str | None, Blueprint]] = [(None, bp)]
    if symbols:
        chosen = [symbol_source(item) for item in symbols]
        names = [s for s, _ in chosen]
        repeated = sorted({s for s in names if names.count(s) > 1})
        if repeated:
            raise ConfigError(f"--symbols names {', '.join(repeated)} more than once")
        bases = [(s, with_symbol(bp, s, source)) for s, source in chosen]
    validated = [apply_overrides(bp, point) for point in points]
    variants = []
    for symbol, base in bases:
        for point, checked in zip(points, validated, strict=True):
            variant_bp = checked if symbol is None else with_symbol(checked, *_only(base))
            variants.append(Variant(symbol, point, variant_bp))
    return SweepPlan(axes, tuple(variants), ("symbol",) if symbols else ())


def _only(blueprint: Blueprint) -> tuple[str, str]:
    spec = blueprint.data.symbols[0]
    return spec.symbol, spec.source


def load_markets(
    blueprints: Iterable[Blueprint],
) -> tuple[dict[str, Market], dict[str, SimpleTraderError]]:
    """Each distinct market the blueprints read, loaded once, and the ones that failed.

    When every market fails the first error is raised: the data itself is wrong, not one
    combination of parameters.
    """
    markets: dict[str, Market] = {}
    failed: dict[str, SimpleTraderError] = {}
    for blueprint in blueprints:
        key = market_key(blueprint)
        if key in markets or key in failed:
            continue
        try:
            markets[key] = load_market_data(blueprint)
        except SimpleTraderError as exc:
            failed[key] = exc
    if failed and not markets:
        raise next(iter(failed.values()))
    return markets, failed
