"""The bundled samples: names, files and metadata."""

from __future__ import annotations

import gzip

import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import SAMPLE_NAMES, default_instrument, sample_info, sample_path


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_is_a_gzip_csv_with_the_standard_header(name: str) -> None:
    path = sample_path(name)
    assert path.name == f"{name}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        assert handle.readline().strip() == "timestamp,open,high,low,close,volume"


def test_sample_metadata() -> None:
    expected = {
        "GOOG_1d": ("GOOG", "1d", "start"),
        "EURUSD_1h": ("EURUSD", "1h", "start"),
        "BTCUSD_1M": ("BTCUSD", "1M", "end"),
        "SPX_1d": ("SPX", "1d", "start"),
        "NASDAQ_1d": ("NASDAQ", "1d", "start"),
    }
    for name, (symbol, timeframe, label) in expected.items():
        info = sample_info(name)
        assert (info.name, info.symbol, info.timeframe, info.label) == (
            name,
            symbol,
            timeframe,
            label,
        )
        assert info.instrument == default_instrument(symbol)


def test_unknown_sample_lists_the_valid_names() -> None:
    with pytest.raises(DataError) as caught:
        sample_path("AAPL_1d")
    assert str(caught.value) == (
        "unknown sample 'AAPL_1d'; valid sample names: GOOG_1d, EURUSD_1h, BTCUSD_1M, SPX_1d, "
        "NASDAQ_1d"
    )
