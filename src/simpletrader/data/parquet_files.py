"""Reading a Parquet file of bars (needs pyarrow): a streaming read for clean files, a whole-file
read that can name every problem.

As for a CSV (``simpletrader.data.csv_files``), a file is first read in record batches straight
into numpy arrays of the final size, so neither a whole Arrow table nor pandas columns of it are
ever held next to the bars; only a file that fails a check is read whole, by
``read_parquet_columns``, to word the error.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from simpletrader.core.errors import DataError
from simpletrader.data.validation import (
    REQUIRED_COLUMNS,
    VALUE_COLUMNS,
    CheckedColumns,
    RawColumns,
    all_valid,
    match_columns,
)

_BATCH_ROWS = 65_536
_READ_BUFFER_BYTES = 1 << 20


def _pyarrow(name: str) -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            f"{name}: reading Parquet needs pyarrow; install it with "
            f"pip install 'simpletrader[parquet]'"
        ) from None
    return pa, pc, pq


def read_clean_parquet(path: Path, name: str) -> CheckedColumns | None:
    """The checked arrays of a Parquet file that passes every check, read batch by batch; None
    when anything is off (the caller then reads it with ``read_parquet_columns``)."""
    pa, pc, pq = _pyarrow(name)
    try:
        # Unbuffered, the reader would hold each whole column chunk of a row group at once.
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER_BYTES)
        spelling = match_columns(list(parquet.schema_arrow.names), name)
        n = parquet.metadata.num_rows
        timestamps = np.empty(n, dtype=np.int64)
        values = {column: np.empty(n, dtype=np.float64) for column in VALUE_COLUMNS}
        start = 0
        for batch in parquet.iter_batches(
            batch_size=_BATCH_ROWS,
            columns=[spelling[column] for column in REQUIRED_COLUMNS],
            use_threads=False,
        ):
            end = start + batch.num_rows
            if end > n or batch.num_columns != len(REQUIRED_COLUMNS):
                return None
            columns = dict(zip(REQUIRED_COLUMNS, batch.columns, strict=True))
            if not _fill(columns, timestamps, values, start, pa, pc):
                return None
            start = end
    except (OSError, pa.ArrowException):
        return None
    finally:
        # Batches come from pyarrow's own allocator, which keeps freed pages for reuse.
        pa.default_memory_pool().release_unused()
    if start != n or not all_valid(timestamps, values):
        return None
    return CheckedColumns(timestamps=timestamps, values=values)


def _fill(
    columns: dict[str, Any],
    timestamps: npt.NDArray[np.int64],
    values: dict[str, npt.NDArray[np.float64]],
    start: int,
    pa: ModuleType,
    pc: ModuleType,
) -> bool:
    """Copy a batch's columns into the arrays from row ``start``; False if one needs a closer
    look (a null, a column of the wrong type, a time that is naive or out of range)."""
    if any(column.null_count for column in columns.values()):
        return False
    stamps = _timestamps_ns(columns["timestamp"], pa, pc)
    if stamps is None:
        return False
    end = start + len(stamps)
    timestamps[start:end] = stamps
    for name in VALUE_COLUMNS:
        data = columns[name]
        kind = data.type
        if not (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
        ):
            return False
        values[name][start:end] = data.cast(pa.float64()).to_numpy()
    return True


def _timestamps_ns(data: Any, pa: ModuleType, pc: ModuleType) -> npt.NDArray[np.int64] | None:
    """int64 ns UTC of a batch's timestamp column; None for a type or value that needs a closer
    look (naive, out of range, not a time, text without a zone)."""
    kind = data.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        moments = data.cast(pa.timestamp("ns", tz="UTC"))  # ArrowInvalid when out of range
    elif pa.types.is_date(kind):
        moments = data.cast(pa.timestamp("ns"))
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # A cast to a tz-aware type accepts only values with a zone designator.
        moments = pc.cast(data, pa.timestamp("ns", tz="UTC"))
    else:
        return None
    return np.asarray(moments.cast(pa.int64()).to_numpy(), dtype=np.int64)


def read_parquet_columns(path: Path, name: str) -> RawColumns:
    """The whole file as raw columns for ``validate``, or a DataError for a file pyarrow cannot
    read or a timestamp column of the wrong type."""
    pa, _, pq = _pyarrow(name)
    try:
        schema = pq.read_schema(path)
        spelling = match_columns(list(schema.names), name)
        table = pq.read_table(path, columns=list(spelling.values()))
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{name}: cannot read the Parquet file ({error})") from None

    columns: dict[str, pd.Series] = {}
    for column in REQUIRED_COLUMNS:
        data = table.column(spelling[column])
        kind = data.type
        if column == "timestamp":
            columns[column] = _timestamp_column(data, name, pa)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            # Arrow-backed, so a null (reported as empty) stays distinct from a NaN.
            columns[column] = pd.Series(pd.arrays.ArrowExtensionArray(data.cast(pa.float64())))
        else:
            columns[column] = data.to_pandas().astype("string")
    return RawColumns(source=name, columns=columns, row_word="row", first_row_number=1)


def _timestamp_column(data: Any, name: str, pa: ModuleType) -> pd.Series:
    kind = data.type
    if pa.types.is_timestamp(kind) and kind.tz is None:
        raise DataError(
            f"{name}: row 1, column 'timestamp': type {kind} has no time zone (naive "
            f"times are ambiguous); expected a tz-aware timestamp, a date, or ISO-8601 "
            f"text with a zone"
        )
    # Kept in the file's unit (a cast to ns would fail on years past 2262): the validation
    # names out-of-range values.
    if pa.types.is_timestamp(kind):
        return data.to_pandas()  # type: ignore[no-any-return]
    if pa.types.is_date(kind):
        return data.cast(pa.timestamp("ms")).to_pandas().dt.tz_localize("UTC")  # type: ignore[no-any-return]
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return data.to_pandas()  # type: ignore[no-any-return]
    raise DataError(
        f"{name}: row 1, column 'timestamp': type {kind} is not a time; expected a "
        f"tz-aware timestamp, a date, or ISO-8601 text with a zone"
    )
