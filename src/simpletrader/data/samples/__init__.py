"""Bundled real market data for tests, demos and benchmarks.

Gzip CSVs with the header ``timestamp,open,high,low,close,volume``, timestamps ISO-8601 UTC,
values exactly as published by their source:

- ``GOOG_1d``: Alphabet (GOOG), daily, 2004-08-19..2013-03-01, 2,148 rows (backtesting 0.6.6).
- ``EURUSD_1h``: EUR/USD spot, hourly, 2017-04-19..2018-02-07, 5,000 rows (backtesting 0.6.6).
- ``BTCUSD_1M``: BTC/USD, monthly, 2012-01..2024-12, 156 rows (backtesting 0.6.6).
- ``SPX_1d``: S&P 500 index, daily, 1999-01-04..2018-12-31, 5,031 rows (arch 8.0).
- ``NASDAQ_1d``: NASDAQ Composite, daily, 1999-01-04..2018-12-31, 5,031 rows (arch 8.0).

Every file is labelled at the period's start except BTCUSD_1M, labelled at the month's last day
(period end); ``load_bars`` shifts it to the month's first day. SPX and NASDAQ share a calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from simpletrader.core.errors import DataError
from simpletrader.data.instruments import Instrument, default_instrument

_DIRECTORY = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class SampleInfo:
    """What a bundled sample holds: its symbol, bar length (``1d``, ``1h``, ``1M`` = month),
    how its rows are labelled, its data rows and the instrument to trade it with."""

    name: str
    symbol: str
    timeframe: str
    label: Literal["start", "end"]
    rows: int
    instrument: Instrument


_SAMPLES: dict[str, SampleInfo] = {
    info.name: info
    for info in (
        SampleInfo("GOOG_1d", "GOOG", "1d", "start", 2148, default_instrument("GOOG")),
        SampleInfo("EURUSD_1h", "EURUSD", "1h", "start", 5000, default_instrument("EURUSD")),
        SampleInfo("BTCUSD_1M", "BTCUSD", "1M", "end", 156, default_instrument("BTCUSD")),
        SampleInfo("SPX_1d", "SPX", "1d", "start", 5031, default_instrument("SPX")),
        SampleInfo("NASDAQ_1d", "NASDAQ", "1d", "start", 5031, default_instrument("NASDAQ")),
    )
}

SAMPLE_NAMES: tuple[str, ...] = tuple(_SAMPLES)
"""Names accepted by :func:`sample_path`, :func:`sample_info` and ``load_bars``."""


def sample_info(name: str) -> SampleInfo:
    """Metadata of the bundled sample ``name``; DataError listing the valid names if unknown."""
    try:
        return _SAMPLES[name]
    except KeyError:
        raise DataError(
            f"unknown sample {name!r}; valid sample names: {', '.join(SAMPLE_NAMES)}"
        ) from None


def sample_path(name: str) -> Path:
    """Path of the bundled gzip CSV for sample ``name``; DataError listing the valid names if
    unknown."""
    return _DIRECTORY / f"{sample_info(name).name}.csv.gz"


__all__ = ["SAMPLE_NAMES", "SampleInfo", "sample_info", "sample_path"]
