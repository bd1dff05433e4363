"""Every kind of bad market data is a DataError naming file, line, column, value and remedy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import load_bars

WriteCsv = Callable[..., Path]
HEADER = "timestamp,open,high,low,close,volume"
GOOD_ROWS = ("2020-01-01T00:00:00Z,1,2,0.5,1.5,10", "2020-01-02T00:00:00Z,1.5,2.5,1,2,20")
FIRST = GOOD_ROWS[0]


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_bars(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_empty_file_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(header=None)
    assert error_of(path) == (
        f"{path}: the file is empty; expected a header line "
        "'timestamp,open,high,low,close,volume' and at least one data row"
    )


def test_header_without_rows_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv()
    assert error_of(path) == (
        f"{path}: no data rows after the header; expected at least one bar "
        "(timestamp,open,high,low,close,volume)"
    )


def test_missing_column_lists_the_columns_found(write_csv: WriteCsv) -> None:
    path = write_csv("2020-01-01T00:00:00Z,1,2,0.5,1.5", header="Timestamp,Open,High,Low,Close")
    assert error_of(path) == (
        f"{path}: line 1 (header): missing column volume; found columns: Timestamp, Open, High, "
        "Low, Close; expected timestamp,open,high,low,close,volume (any case, in any order, "
        "extra columns ignored)"
    )


def test_unparsable_timestamp_names_line_and_value(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "yesterday,1,2,0.5,1.5,10")
    assert error_of(path).startswith(
        f"{path}: line 3, column 'timestamp': cannot parse 'yesterday' as a timestamp; "
        "expected ISO-8601 with a zone (2024-01-31T09:30:00Z"
    )


def test_numeric_timestamp_is_not_taken_as_epoch_seconds(write_csv: WriteCsv) -> None:
    path = write_csv("1577836800,1,2,0.5,1.5,10")
    assert error_of(path).startswith(
        f"{path}: line 2, column 'timestamp': cannot parse '1577836800' as a timestamp"
    )


def test_naive_timestamp_is_rejected_with_a_suggestion(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02 00:00:00,1,2,0.5,1.5,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'timestamp': value '2020-01-02 00:00:00' has no time zone "
        "(naive times are ambiguous); add 'Z' for UTC or an offset such as +01:00, e.g. "
        "'2020-01-02T00:00:00Z'"
    )


def test_empty_timestamp_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, ",1,2,0.5,1.5,10")
    assert error_of(path).startswith(f"{path}: line 3, column 'timestamp': value is empty;")


def test_timestamp_beyond_nanosecond_range_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv("2300-01-01T00:00:00Z,1,2,0.5,1.5,10")
    assert error_of(path) == (
        f"{path}: line 2, column 'timestamp': value '2300-01-01T00:00:00Z' is outside the "
        "supported range 1677-09-22..2262-04-11 (int64 nanoseconds)"
    )


def test_duplicate_timestamp_names_both_lines(write_csv: WriteCsv) -> None:
    path = write_csv(*GOOD_ROWS, GOOD_ROWS[1])
    assert error_of(path) == (
        f"{path}: line 4, column 'timestamp': value '2020-01-02T00:00:00Z' is a duplicate of "
        "line 3 ('2020-01-02T00:00:00Z'); expected strictly increasing timestamps, one bar per "
        "time"
    )


def test_decreasing_timestamp_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(GOOD_ROWS[1], GOOD_ROWS[0])
    assert error_of(path) == (
        f"{path}: line 3, column 'timestamp': value '2020-01-01T00:00:00Z' is earlier than "
        "line 2 ('2020-01-02T00:00:00Z'); expected strictly increasing timestamps (sort the file "
        "by time)"
    )


def test_offsets_are_compared_in_utc(write_csv: WriteCsv) -> None:
    # 01:00+02:00 is 23:00 UTC the day before: earlier than line 2 although it reads later.
    path = write_csv(FIRST, "2020-01-01T01:00:00+02:00,1,2,0.5,1.5,10")
    assert "line 3, column 'timestamp': value '2020-01-01T01:00:00+02:00' is earlier than" in (
        error_of(path)
    )


def test_high_below_low_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,0.4,0.5,0.45,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'high': value 0.4 is below low 0.5; expected high >= low"
    )


def test_open_outside_the_range_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,3,2,0.5,1.5,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'open': value 3 is outside [low 0.5, high 2]; expected "
        "low <= open <= high"
    )


def test_close_outside_the_range_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2,0.5,0.1,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'close': value 0.1 is outside [low 0.5, high 2]; expected "
        "low <= close <= high"
    )


def test_negative_volume_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2,0.5,1.5,-5")
    assert error_of(path) == (
        f"{path}: line 3, column 'volume': value -5 is negative; expected volume >= 0"
    )


def test_nan_price_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,NaN,2,0.5,1.5,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'open': value 'NaN' is not finite; expected a finite number "
        "such as 101.25"
    )


def test_infinite_price_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,inf,0.5,1.5,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'high': value 'inf' is not finite; expected a finite number "
        "such as 101.25"
    )


def test_empty_price_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2,,1.5,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'low': value is empty; expected a finite number such as 101.25"
    )


def test_non_numeric_price_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2,0.5,abc,10")
    assert error_of(path) == (
        f"{path}: line 3, column 'close': value 'abc' is not a number; expected a finite number "
        "such as 101.25"
    )


def test_short_row_reports_the_first_missing_value(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2")
    assert error_of(path).startswith(f"{path}: line 3, column 'low': value is empty;")


def test_row_with_too_many_fields_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00Z,1,2,0.5,1.5,10,99")
    assert error_of(path) == f"{path}: line 3: found 7 fields; expected 6 like the header"


def test_blank_line_inside_the_data_is_rejected(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "", GOOD_ROWS[1])
    assert error_of(path) == (
        f"{path}: line 3 is blank; expected a bar (timestamp,open,high,low,close,volume) or no "
        "line at all"
    )


def test_blank_lines_at_the_end_are_ignored(write_csv: WriteCsv) -> None:
    assert len(load_bars(write_csv(*GOOD_ROWS, "", ""))) == 2


def test_first_offending_row_wins_across_kinds_of_error(write_csv: WriteCsv) -> None:
    path = write_csv(
        FIRST,
        "2020-01-02T00:00:00Z,1,2,0.5,1.5,-1",  # line 3: negative volume
        "2020-01-03T00:00:00Z,abc,2,0.5,1.5,10",  # line 4: not a number
        "bad,1,2,0.5,1.5,10",  # line 5: bad timestamp
    )
    assert error_of(path).startswith(f"{path}: line 3, column 'volume': value -1 is negative")


def test_within_a_row_the_leftmost_problem_is_reported(write_csv: WriteCsv) -> None:
    path = write_csv(FIRST, "2020-01-02T00:00:00,abc,2,0.5,1.5,-1")
    assert error_of(path).startswith(f"{path}: line 3, column 'timestamp': value ")


def test_gzip_file_errors_name_the_gzip_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n{FIRST}\n{FIRST}\n".encode()))
    assert error_of(path).startswith(f"{path}: line 3, column 'timestamp': value ")


def test_corrupt_gzip_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.csv.gz"
    path.write_bytes(b"not gzip at all")
    assert error_of(path).startswith(f"{path}: cannot read the file (")
