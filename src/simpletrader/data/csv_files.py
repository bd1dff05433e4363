"""Reading a CSV (plain or gzip) of bars: a streaming read for clean files, a whole-file read
that can name every problem.

A whole-file read holds a pandas frame whose timestamp text is one Python string per row: for
a million rows the read peaks near three times the final arrays and leaves a fragmented heap.
So a file is first streamed in chunks straight into the final arrays; only when a chunk or a
check fails is the file read whole, by ``read_csv_columns``, whose checks then word the error.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.io.parsers import TextFileReader

from simpletrader.core.errors import DataError
from simpletrader.data.validation import (
    REQUIRED_COLUMNS,
    VALUE_COLUMNS,
    CheckedColumns,
    RawColumns,
    all_valid,
    is_blank,
    match_columns,
    parse_zoned_timestamps,
)

_CHUNK_ROWS = 65_536
# No row the streaming read accepts is shorter: a zoned timestamp ("2024-01-31T09Z"), five
# one-digit values and the separators. A file with more rows than its size allows (a gzip file
# that misstates its size) goes to the whole-file read.
_MIN_ROW_BYTES = 24
_GZIP_SIZE_BYTES = 4
# Anything the streaming read can meet in a file it should not take; the whole-file read then
# meets it again and words it (pd.errors.ParserError and EmptyDataError are ValueErrors).
_STREAM_ERRORS = (
    ValueError,
    TypeError,
    OSError,
    EOFError,
    zlib.error,
)


def read_clean_csv(path: Path, name: str) -> CheckedColumns | None:
    """The checked arrays of a CSV that passes every check, read chunk by chunk into arrays of
    the final size; None when anything is off (the caller then reads it with
    ``read_csv_columns``, which names the problem)."""
    try:
        header = pandas_csv(path, nrows=0)
        capacity = _row_bound(path)
    except _STREAM_ERRORS:
        return None
    spelling = match_columns(list(header.columns), name)
    timestamps = np.empty(capacity, dtype=np.int64)
    values = {column: np.empty(capacity, dtype=np.float64) for column in VALUE_COLUMNS}
    n = 0
    try:
        with _pandas_chunks(path) as reader:
            for chunk in reader:
                end = n + len(chunk)
                if end > capacity or not _fill(chunk, spelling, timestamps, values, n):
                    return None
                n = end
    except _STREAM_ERRORS:
        return None
    if n == 0:
        return None
    # Shrinking in place: the untouched tail of each allocation was never resident.
    timestamps.resize(n, refcheck=False)
    for array in values.values():
        array.resize(n, refcheck=False)
    if not all_valid(timestamps, values):
        return None
    return CheckedColumns(timestamps=timestamps, values=values)


def _fill(
    chunk: pd.DataFrame,
    spelling: dict[str, str],
    timestamps: npt.NDArray[np.int64],
    values: dict[str, npt.NDArray[np.float64]],
    start: int,
) -> bool:
    """Copy ``chunk`` into the arrays from row ``start``; False if a column needs a closer
    look (text among numbers, a timestamp that is not ISO-8601 with a zone)."""
    end = start + len(chunk)
    for column in VALUE_COLUMNS:
        series = chunk[spelling[column]]
        if not isinstance(series.dtype, np.dtype) or series.dtype.kind not in "iuf":
            return False
        values[column][start:end] = series.to_numpy()
    parsed = parse_zoned_timestamps(chunk[spelling["timestamp"]])
    if parsed is None:
        return False
    timestamps[start:end] = parsed
    return True


def _row_bound(path: Path) -> int:
    """At most how many rows the streaming read can accept from ``path``.

    Over-estimating costs no resident memory: the pages beyond the rows written are never
    touched, and the arrays are shrunk in place at the end. A gzip file states its size
    (modulo 4 GiB) in its last four bytes.
    """
    size = path.stat().st_size
    if path.name.lower().endswith(".gz") and size >= _GZIP_SIZE_BYTES:
        with path.open("rb") as handle:
            handle.seek(-_GZIP_SIZE_BYTES, 2)
            size = int.from_bytes(handle.read(_GZIP_SIZE_BYTES), "little")
    return size // _MIN_ROW_BYTES + 1


def read_csv_columns(path: Path, name: str) -> RawColumns:
    """The whole file as raw columns for ``validate``, or a DataError for a file pandas
    cannot parse (empty, ragged, not UTF-8, corrupt gzip)."""
    try:
        header = pandas_csv(path, nrows=0)
        spelling = match_columns(list(header.columns), name)
        frame = pandas_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name}: the file is empty; expected a header line "
            f"'{','.join(REQUIRED_COLUMNS)}' and at least one data row"
        ) from None
    except pd.errors.ParserError as error:
        raise DataError(f"{name}: {_parser_message(error)}") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"{name}: byte {error.start} is not UTF-8 text; expected a UTF-8 CSV"
        ) from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{name}: cannot read the file ({error})") from None
    columns = {column: frame[spelling[column]] for column in REQUIRED_COLUMNS}
    columns = _drop_trailing_blank_rows(columns)
    return RawColumns(source=name, columns=columns, row_word="line", first_row_number=2)


def pandas_csv(path: Path, nrows: int | None = None) -> pd.DataFrame:
    # keep_default_na=False keeps empty and 'NA'-like cells as text, so errors can quote them;
    # skip_blank_lines=False keeps data row i on line i + 2, as an editor numbers it. No usecols:
    # it silently drops a row's extra fields, which must be reported. A timestamp column that
    # pandas reads as numbers is turned back into text by the validation.
    return pd.read_csv(
        path, nrows=nrows, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
    )


def _pandas_chunks(path: Path) -> TextFileReader:
    """``pandas_csv`` in chunks of ``_CHUNK_ROWS`` rows."""
    return pd.read_csv(
        path,
        chunksize=_CHUNK_ROWS,
        keep_default_na=False,
        skip_blank_lines=False,
        encoding="utf-8-sig",
    )


def _parser_message(error: pd.errors.ParserError) -> str:
    text = str(error).strip()
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return f"line {line}: found {saw} fields; expected {expected} like the header"
    return f"cannot parse the CSV ({text.splitlines()[0] if text else 'unknown error'})"


def _drop_trailing_blank_rows(columns: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Drop blank lines at the end of the file, which editors often add; a blank line inside
    the data stays and is reported."""
    n = len(columns["timestamp"])
    end = n
    while end > 0 and all(is_blank(column.iloc[end - 1]) for column in columns.values()):
        end -= 1
    if end == n:
        return columns
    return {key: column.iloc[:end] for key, column in columns.items()}
