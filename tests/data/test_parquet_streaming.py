"""The batched Parquet read: same bars as a whole-file read, same errors from any batch."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import load_bars, parquet_files
from simpletrader.data.parquet_files import read_clean_parquet, read_parquet_columns
from simpletrader.data.validation import VALUE_COLUMNS, validate

N = 7
DAYS = [date(2020, 1, day) for day in range(1, N + 1)]
VALUES: dict[str, Any] = {
    "open": pa.array([Decimal("1.25")] * N, type=pa.decimal128(9, 2)),
    "high": pa.array([2] * N, type=pa.int32()),
    "low": [0.5] * N,
    "close": [1.5] * N,
    "volume": list(range(N)),
}
TIMESTAMPS = {
    "dates": pa.array(DAYS),
    "text": pa.array([f"{day}T00:00:00Z" for day in DAYS]),
    "tokyo": pa.array(
        [datetime(2020, 1, day, 9, tzinfo=ZoneInfo("Asia/Tokyo")) for day in range(1, N + 1)]
    ),
}


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows a batch, so a handful of rows cross several batch boundaries."""
    monkeypatch.setattr(parquet_files, "_BATCH_ROWS", 2)


def write(path: Path, timestamps: Any, **columns: Any) -> Path:
    table = pa.table({"timestamp": timestamps, **VALUES, **columns})
    pq.write_table(table, path, row_group_size=3)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_bars(path)
    return str(caught.value)


@pytest.mark.parametrize("kind", sorted(TIMESTAMPS))
def test_batched_read_equals_the_whole_file_read(tmp_path: Path, kind: str) -> None:
    path = write(tmp_path / f"{kind}.parquet", TIMESTAMPS[kind])
    whole = validate(read_parquet_columns(path, str(path)))
    batched = read_clean_parquet(path, str(path))
    assert batched is not None
    np.testing.assert_array_equal(batched.timestamps, whole.timestamps)
    for name in VALUE_COLUMNS:
        np.testing.assert_array_equal(batched.values[name], whole.values[name])
    np.testing.assert_array_equal(load_bars(path).open, np.full(N, 1.25))


def test_a_null_in_a_later_batch_names_its_row(tmp_path: Path) -> None:
    close = [1.5] * N
    close[4] = None
    path = write(tmp_path / "gap.parquet", TIMESTAMPS["dates"], close=close)
    assert error_of(path) == (
        f"{path}: row 5, column 'close': value is empty; expected a finite number such as 101.25"
    )


def test_text_without_a_zone_in_a_later_batch_names_its_row(tmp_path: Path) -> None:
    text = [f"{day}T00:00:00Z" for day in DAYS]
    text[5] = "2020-01-06T00:00:00"
    path = write(tmp_path / "naive.parquet", pa.array(text))
    assert error_of(path).startswith(
        f"{path}: row 6, column 'timestamp': value '2020-01-06T00:00:00' has no time zone"
    )


def test_a_negative_volume_in_a_later_batch_names_its_row(tmp_path: Path) -> None:
    path = write(tmp_path / "volume.parquet", TIMESTAMPS["dates"], volume=[1, 2, 3, 4, 5, 6, -7])
    assert error_of(path) == (
        f"{path}: row 7, column 'volume': value -7 is negative; expected volume >= 0"
    )


def test_a_timestamp_beyond_nanosecond_range_names_its_row(tmp_path: Path) -> None:
    moments = [datetime(2020, 1, day, tzinfo=UTC) for day in range(1, N)]
    path = write(tmp_path / "far.parquet", pa.array([*moments, datetime(2300, 1, 1, tzinfo=UTC)]))
    assert error_of(path) == (
        f"{path}: row 7, column 'timestamp': value '2300-01-01T00:00:00+00:00' is outside the "
        "supported range 1677-09-22..2262-04-11 (int64 nanoseconds)"
    )
