"""The chunked CSV read: same bars as a whole-file read, same errors from any chunk."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import csv_files, load_bars, validation
from simpletrader.data.csv_files import read_clean_csv, read_csv_columns
from simpletrader.data.validation import VALUE_COLUMNS, CheckedColumns, validate

WriteCsv = Callable[..., Path]

ROWS = (
    "2020-01-01T00:00:00Z,1,2,0.5,1.5,10",
    "2020-01-01T02:00:00+01:00,1,2,0.5,1.5,11",  # 01:00 UTC
    "2020-01-01T02:00:00Z,1.25,2.5,0.75,1.5,12.5",
    "2020-01-01T03:00:00.5Z,1,2,0.5,1.5,13",
    "2020-01-01T00:00:00-0400,1,2,0.5,1.5,14",  # 04:00 UTC
    "2020-01-01T05:00:00Z,1e2,2e2,0.5e2,1.5e2,0",
    "2020-01-01T06:00:00Z,1,2,0.5,1.5,16",
)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows a chunk, so a handful of rows cross several chunk boundaries."""
    monkeypatch.setattr(csv_files, "_CHUNK_ROWS", 2)


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_bars(path)
    return str(caught.value)


def assert_same(actual: CheckedColumns | None, expected: CheckedColumns) -> None:
    assert actual is not None
    np.testing.assert_array_equal(actual.timestamps, expected.timestamps)
    for name in VALUE_COLUMNS:
        np.testing.assert_array_equal(actual.values[name], expected.values[name])
        assert actual.values[name].dtype == np.float64
    assert actual.timestamps.dtype == np.int64


def test_chunked_read_equals_the_whole_file_read(write_csv: WriteCsv) -> None:
    path = write_csv(*ROWS)
    whole = validate(read_csv_columns(path, str(path)))
    assert_same(read_clean_csv(path, str(path)), whole)
    assert len(load_bars(path)) == len(ROWS)


def test_chunked_read_equals_the_whole_file_read_without_pyarrow(
    write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(*ROWS)
    with_arrow = validate(read_csv_columns(path, str(path)))
    monkeypatch.setattr(validation, "pa", None)
    monkeypatch.setattr(validation, "pc", None)
    assert_same(validate(read_csv_columns(path, str(path))), with_arrow)
    bars = load_bars(path)
    np.testing.assert_array_equal(bars.timestamps, with_arrow.timestamps)


def test_gzip_file_is_read_in_chunks(tmp_path: Path, write_csv: WriteCsv) -> None:
    plain = write_csv(*ROWS)
    packed = tmp_path / "bars.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert_same(read_clean_csv(packed, str(packed)), validate(read_csv_columns(plain, "x")))


def test_a_file_longer_than_its_row_bound_still_loads(
    write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(*ROWS)
    monkeypatch.setattr(csv_files, "_MIN_ROW_BYTES", 100)
    assert read_clean_csv(path, str(path)) is None
    assert len(load_bars(path)) == len(ROWS)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "2020-01-02T00:00:00,1,2,0.5,1.5,10",
            "line 6, column 'timestamp': value '2020-01-02T00:00:00' has no time zone",
        ),
        ("2020-01-01T03:00:00Z,1,2,0.5,1.5,10", "line 6, column 'timestamp': value "),
        ("2020-01-02T00:00:00Z,1,2,0.5,abc,10", "line 6, column 'close': value 'abc' is not a"),
        ("2020-01-02T00:00:00Z,1,2,0.5,inf,10", "line 6, column 'close': value 'inf' is not fi"),
        ("2020-01-02T00:00:00Z,1,2,0.5,1.5,-1", "line 6, column 'volume': value -1 is negative"),
        ("2020-01-02T00:00:00Z,1,2,3,1.5,10", "line 6, column 'high': value 2 is below low 3"),
        ("2020-01-02T00:00:00Z,1,2,0.5,1.5,10,7", "line 6: found 7 fields; expected 6"),
        ("", "line 6 is blank"),
    ],
)
def test_a_problem_in_a_later_chunk_names_its_line(
    write_csv: WriteCsv, bad_row: str, message: str
) -> None:
    path = write_csv(*ROWS[:4], bad_row, "2020-01-03T00:00:00Z,1,2,0.5,1.5,10")
    assert error_of(path).startswith(f"{path}: {message}")


def test_blank_lines_at_the_end_are_ignored_across_chunks(write_csv: WriteCsv) -> None:
    assert len(load_bars(write_csv(*ROWS, "", "", ""))) == len(ROWS)


def test_end_labelled_monthly_error_quotes_the_file_text(write_csv: WriteCsv) -> None:
    path = write_csv(
        "2020-01-31T00:00:00Z,1,2,0.5,1.5,10",
        "2020-02-29T00:00:00Z,1,2,0.5,1.5,10",
        "2020-03-01T00:00:00Z,1,2,0.5,1.5,10",
        "2020-03-31T00:00:00Z,1,2,0.5,1.5,10",
    )
    with pytest.raises(DataError) as caught:
        load_bars(path, label="end")
    assert str(caught.value) == (
        f"{path}: line 5, column 'timestamp': value '2020-03-31T00:00:00Z' is in the same month "
        "as line 4; expected one row per month for end-labelled monthly bars"
    )
