"""Helpers for end-to-end pipeline tests: blueprints from text, journal lookups, bars."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import numpy as np

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.blueprint import Blueprint
from simpletrader.config.loader import load_blueprint_text
from simpletrader.data import Bars, default_instrument
from simpletrader.journal.events import FlowRecorded

DAY_NS = 86_400 * 1_000_000_000
# 2024-01-01 00:00 UTC, a Monday.
MONDAY_NS = 1_704_067_200 * 1_000_000_000


def blueprint(text: str) -> Blueprint:
    return load_blueprint_text(textwrap.dedent(text))[0]


def daily_bars(symbol: str, closes: list[float] | np.ndarray, start_ns: int = MONDAY_NS) -> Bars:
    close = np.asarray(closes, dtype=np.float64)
    n = len(close)
    return Bars(
        symbol=symbol,
        timestamps=start_ns + DAY_NS * np.arange(n, dtype=np.int64),
        open=close.copy(),
        high=close * 1.001,
        low=close * 0.999,
        close=close,
        volume=np.full(n, 1e6),
        source="hand-made",
        timeframe_seconds=86_400,
    )


def run_on(bp: Blueprint, *bars: Bars) -> BacktestRun:
    """Run ``bp`` on hand-made bars (one ``Bars`` per blueprint symbol)."""
    market = (
        {b.symbol: b for b in bars},
        {b.symbol: default_instrument(b.symbol) for b in bars},
        {b.symbol: "hand-made" for b in bars},
    )
    return run_backtest(bp, market=market)


def flow_entries(run: BacktestRun) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    """Every journaled flow DTO as ``(at, type name, its own id, the DTO)``, the DTO with every
    field: decoded from the journal, whatever its stored form leaves out."""
    for event in run.journal.events():
        if isinstance(event, FlowRecorded):
            yield event.at, type(event.dto).__name__, event.key, event.dto.model_dump(mode="json")


def flow_dtos(run: BacktestRun, type_name: str) -> Iterator[dict[str, Any]]:
    """The journaled DTOs of one type (``Origin``, ``Signal``, ``StrategyDirective``, ...)."""
    for _, name, _, dto in flow_entries(run):
        if name == type_name:
            yield dto


def kinds(run: BacktestRun, kind: str) -> list[dict[str, Any]]:
    return list(run.journal.records((kind,)))
