"""load_bars: bundled samples, CSV / gzip / Parquet files, the time rule and symbol inference."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import (
    SAMPLE_NAMES,
    Bars,
    default_instrument,
    load_bars,
    sample_info,
    sample_path,
)

WriteCsv = Callable[..., Path]
DAY_NS = 86_400 * 10**9


def to_frame(bars: Bars) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(bars.timestamps, unit="ns", utc=True),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }
    )


def assert_same_bars(actual: Bars, expected: Bars) -> None:
    assert actual.symbol == expected.symbol
    np.testing.assert_array_equal(actual.timestamps, expected.timestamps)
    for name in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))


@pytest.mark.parametrize(
    ("name", "symbol", "rows", "timeframe_seconds"),
    [
        ("GOOG_1d", "GOOG", 2148, 86_400),
        ("EURUSD_1h", "EURUSD", 5000, 3_600),
        ("BTCUSD_1M", "BTCUSD", 156, 31 * 86_400),
        ("SPX_1d", "SPX", 5031, 86_400),
        ("NASDAQ_1d", "NASDAQ", 5031, 86_400),
    ],
)
def test_each_sample_loads_with_its_instrument_and_row_count(
    name: str, symbol: str, rows: int, timeframe_seconds: int
) -> None:
    bars = load_bars(name)
    info = sample_info(name)

    assert (bars.symbol, len(bars), bars.source) == (symbol, rows, name)
    assert info.rows == rows
    assert info.instrument == default_instrument(symbol)
    assert info.instrument.symbol == symbol
    assert bars.timeframe_seconds == timeframe_seconds
    assert bars.timestamps.dtype == np.int64
    for array in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        assert array.dtype == np.float64
        assert array.flags.c_contiguous
        assert len(array) == rows


def test_all_samples_are_covered() -> None:
    assert SAMPLE_NAMES == ("GOOG_1d", "EURUSD_1h", "BTCUSD_1M", "SPX_1d", "NASDAQ_1d")


def test_btcusd_month_end_labels_shift_to_the_first_of_the_month() -> None:
    bars = load_bars("BTCUSD_1M")
    raw = pd.read_csv(sample_path("BTCUSD_1M"))

    assert raw["timestamp"].iloc[0] == "2012-01-31T00:00:00Z"
    assert bars.datetime_at(0) == datetime(2012, 1, 1, tzinfo=UTC)
    assert bars.datetime_at(1) == datetime(2012, 2, 1, tzinfo=UTC)
    assert bars.datetime_at(-1) == datetime(2024, 12, 1, tzinfo=UTC)
    starts = pd.to_datetime(bars.timestamps, unit="ns", utc=True)
    labels = pd.to_datetime(raw["timestamp"], utc=True)
    assert (starts.day == 1).all()
    assert (starts.normalize() == starts).all()
    assert (starts.year == labels.dt.year).all()
    assert (starts.month == labels.dt.month).all()
    np.testing.assert_array_equal(bars.close, raw["close"].to_numpy())


def test_btcusd_loaded_as_start_labelled_keeps_the_file_timestamps() -> None:
    bars = load_bars("BTCUSD_1M", label="start")
    assert bars.datetime_at(0) == datetime(2012, 1, 31, tzinfo=UTC)


def test_end_labelled_daily_file_moves_back_one_bar(write_csv: WriteCsv) -> None:
    path = write_csv(
        "2020-01-02T00:00:00Z,1,2,0.5,1.5,10",
        "2020-01-03T00:00:00Z,1,2,0.5,1.5,10",
        "2020-01-06T00:00:00Z,1,2,0.5,1.5,10",
        "2020-01-07T00:00:00Z,1,2,0.5,1.5,10",
    )
    start = load_bars(path)
    end = load_bars(path, label="end")
    np.testing.assert_array_equal(end.timestamps, start.timestamps - DAY_NS)
    assert end.timeframe_seconds == 86_400


def test_end_labelled_file_with_one_bar_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv("2020-01-02T00:00:00Z,1,2,0.5,1.5,10")
    with pytest.raises(DataError, match=r"label='end' needs at least two bars"):
        load_bars(path, label="end")


def test_end_labelled_monthly_file_with_two_rows_in_a_month_is_rejected(
    write_csv: WriteCsv,
) -> None:
    path = write_csv(
        "2020-01-31,1,2,0.5,1.5,10",
        "2020-02-29,1,2,0.5,1.5,10",
        "2020-03-01,1,2,0.5,1.5,10",
        "2020-03-31,1,2,0.5,1.5,10",
    )
    with pytest.raises(DataError) as caught:
        load_bars(path, label="end")
    assert str(caught.value) == (
        f"{path}: line 5, column 'timestamp': value '2020-03-31' is in the same month as line 4; "
        "expected one row per month for end-labelled monthly bars"
    )


def test_invalid_label_is_rejected() -> None:
    with pytest.raises(DataError, match=r"label='middle'; expected 'start' or 'end'"):
        load_bars("GOOG_1d", label="middle")  # type: ignore[arg-type]


def test_date_only_timestamps_are_utc_midnight(write_csv: WriteCsv) -> None:
    bars = load_bars(write_csv("2020-01-01,1,2,0.5,1.5,10", "2020-01-02,1,2,0.5,1.5,10"))
    assert bars.datetime_at(0) == datetime(2020, 1, 1, tzinfo=UTC)
    assert bars.timeframe_seconds == 86_400


def test_offsets_are_converted_to_utc_and_mixed_forms_are_accepted(write_csv: WriteCsv) -> None:
    bars = load_bars(
        write_csv(
            "2020-01-01,1,2,0.5,1.5,10",
            "2020-01-01T12:00:00+02:00,1,2,0.5,1.5,10",
            "2020-01-01T11:30:00.5Z,1,2,0.5,1.5,10",
            "2020-01-01T08:00:00-0400,1,2,0.5,1.5,10",
        )
    )
    expected = pd.to_datetime(
        ["2020-01-01T00:00Z", "2020-01-01T10:00Z", "2020-01-01T11:30:00.5Z", "2020-01-01T12:00Z"],
        format="ISO8601",
    )
    np.testing.assert_array_equal(bars.timestamps, expected.as_unit("ns").asi8)


def test_header_is_case_insensitive_in_any_order_with_extra_columns(write_csv: WriteCsv) -> None:
    bars = load_bars(
        write_csv(
            "x,10,1,2,0.5,1.5,2020-01-01T00:00:00Z",
            header="Note,VOLUME,Open,High,Low,Close,TimeStamp",
        )
    )
    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]) == (
        1,
        2,
        0.5,
        1.5,
        10,
    )


def test_a_header_matching_one_column_twice_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(
        "2020-01-01T00:00:00Z,1,2,0.5,1.5,1.5,10",
        header="timestamp,open,high,low,close,Close,volume",
    )
    with pytest.raises(DataError, match=r"columns 'close' and 'Close' both match 'close'"):
        load_bars(path)


def test_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufefftimestamp,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n")
    assert len(load_bars(path)) == 1


def test_symbol_defaults_to_the_file_name_before_the_first_underscore(
    write_csv: WriteCsv,
) -> None:
    row = "2020-01-01T00:00:00Z,1,2,0.5,1.5,10"
    assert load_bars(write_csv(row, name="AAPL_1d.csv")).symbol == "AAPL"
    assert load_bars(write_csv(row, name="eth-usd.CSV")).symbol == "eth-usd"
    assert load_bars(write_csv(row, name="AAPL_1d.csv"), symbol="MSFT").symbol == "MSFT"


def test_gzip_csv_round_trip(tmp_path: Path) -> None:
    original = load_bars("EURUSD_1h")
    path = tmp_path / "EURUSD_copy.csv.gz"
    frame = to_frame(original)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        frame.to_csv(handle, index=False)

    assert_same_bars(load_bars(path), original)


def test_parquet_round_trip(tmp_path: Path) -> None:
    original = load_bars("GOOG_1d")
    path = tmp_path / "GOOG_copy.parquet"
    to_frame(original).to_parquet(path)

    loaded = load_bars(path)
    assert_same_bars(loaded, original)
    assert loaded.source == str(path)


def test_parquet_accepts_dates_and_iso_text_and_other_zones(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    values = {"open": [1.0, 1.0], "high": [2, 2], "low": [0.5, 0.5], "close": [1.5, 1.5]}
    expected = pd.to_datetime(["2020-01-01", "2020-01-02"], utc=True).as_unit("ns").asi8
    timestamp_columns = {
        "dates": pa.array([datetime(2020, 1, 1).date(), datetime(2020, 1, 2).date()]),
        "text": pa.array(["2020-01-01T00:00:00Z", "2020-01-02"]),
        "paris": pa.array(
            pd.to_datetime(["2020-01-01T01:00", "2020-01-02T01:00"]).tz_localize("Europe/Paris")
        ),
    }
    for label, timestamps in timestamp_columns.items():
        path = tmp_path / f"{label}.parquet"
        pq.write_table(pa.table({"Timestamp": timestamps, **values, "Volume": [1, 2]}), path)
        np.testing.assert_array_equal(load_bars(path).timestamps, expected, err_msg=label)


def test_parquet_naive_timestamps_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "naive.parquet"
    frame = to_frame(load_bars("GOOG_1d"))
    frame["timestamp"] = frame["timestamp"].dt.tz_localize(None)
    frame.to_parquet(path)
    with pytest.raises(DataError) as caught:
        load_bars(path)
    assert str(caught.value).startswith(f"{path}: row 1, column 'timestamp': type timestamp[")
    assert "has no time zone" in str(caught.value)


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "gap.parquet"
    frame = to_frame(load_bars("GOOG_1d")).astype({"close": "Float64"})
    frame.loc[3, "close"] = None
    frame.to_parquet(path)
    with pytest.raises(DataError) as caught:
        load_bars(path)
    assert str(caught.value) == (
        f"{path}: row 4, column 'close': value is empty; expected a finite number such as 101.25"
    )


def test_parquet_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    path = tmp_path / "short.parquet"
    to_frame(load_bars("GOOG_1d")).drop(columns=["volume"]).to_parquet(path)
    with pytest.raises(DataError, match=r"missing column volume; found columns: timestamp, open"):
        load_bars(path)


def test_parquet_without_pyarrow_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bars.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError) as caught:
        load_bars(path)
    assert str(caught.value) == (
        f"{path}: reading Parquet needs pyarrow; install it with "
        "pip install 'simpletrader[parquet]'"
    )


def test_missing_file_lists_what_would_be_valid(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError) as caught:
        load_bars(path)
    assert str(caught.value) == (
        f"{path}: no such file; expected a path to a .csv, .csv.gz, .parquet file or a bundled "
        "sample name (GOOG_1d, EURUSD_1h, BTCUSD_1M, SPX_1d, NASDAQ_1d)"
    )


def test_unknown_sample_like_name_is_reported_with_the_sample_names() -> None:
    with pytest.raises(DataError) as caught:
        load_bars("GOOG_1D")
    assert str(caught.value) == (
        "GOOG_1D: neither a bundled sample (GOOG_1d, EURUSD_1h, BTCUSD_1M, SPX_1d, NASDAQ_1d) "
        "nor a path ending in .csv, .csv.gz, .parquet"
    )


def test_unsupported_file_type_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bars.xlsx"
    path.write_bytes(b"")
    with pytest.raises(
        DataError, match=r"bars.xlsx: neither a bundled sample \(.*\) nor a path ending in"
    ):
        load_bars(path)


@pytest.mark.parametrize("name", ["EURUSD_1h", "GOOG_1d"])
def test_timestamps_parse_the_same_without_pyarrow(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simpletrader.data import validation

    with_arrow = load_bars(name)
    monkeypatch.setattr(validation, "pa", None)
    monkeypatch.setattr(validation, "pc", None)
    assert_same_bars(load_bars(name), with_arrow)


def test_naive_timestamp_is_rejected_without_pyarrow(
    write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simpletrader.data import validation

    monkeypatch.setattr(validation, "pa", None)
    monkeypatch.setattr(validation, "pc", None)
    path = write_csv("2020-01-01T00:00:00Z,1,2,0.5,1.5,10", "2020-01-02T00:00:00,1,2,0.5,1.5,10")
    with pytest.raises(
        DataError, match=r"line 3, column 'timestamp': value '2020-01-02T00:00:00' "
    ):
        load_bars(path)
