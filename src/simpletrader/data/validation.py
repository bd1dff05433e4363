"""Vectorised validation that turns raw bar columns into checked numpy arrays.

Every check builds a boolean mask over all rows, so a valid file costs a handful of array
passes. When several rows are bad, the error names the first offending row of the file (ties
within a row: the timestamp first, then the columns left to right, then the OHLC relations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from simpletrader.core.errors import DataError

REQUIRED_COLUMNS: tuple[str, ...] = ("timestamp", "open", "high", "low", "close", "volume")
VALUE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

_DATE_ONLY = r"\d{4}-\d{2}-\d{2}"
_ZONE_SUFFIX = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_NAT = np.iinfo(np.int64).min
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000}  # pandas' other resolutions
_TIMESTAMP_EXPECTED = (
    "expected ISO-8601 with a zone (2024-01-31T09:30:00Z, 2024-01-31T09:30:00+01:00) "
    "or a date (2024-01-31, taken as 00:00 UTC)"
)
_OUT_OF_RANGE = "outside the supported range 1677-09-22..2262-04-11 (int64 nanoseconds)"
_NUMBER_EXPECTED = "expected a finite number such as 101.25"

try:  # pyarrow is optional: it makes timestamp parsing ~10x faster, pandas is the fallback
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError:  # pragma: no cover - exercised only without the parquet extra
    pa = None
    pc = None


@dataclass(frozen=True, slots=True)
class RawColumns:
    """Columns as read from a file, before any check.

    ``first_row_number`` and ``row_word`` turn a 0-based data row into what a user sees: a CSV's
    first data row is "line 2" (the header is line 1), a Parquet file's is "row 1".
    """

    source: str
    columns: dict[str, pd.Series]
    row_word: str
    first_row_number: int

    def where(self, row: int) -> str:
        return f"{self.row_word} {row + self.first_row_number}"


@dataclass(frozen=True, slots=True)
class CheckedColumns:
    """Validated arrays: int64 ns UTC timestamps, float64 values, all C-contiguous."""

    timestamps: npt.NDArray[np.int64]
    values: dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class _Issue:
    row: int
    column: str
    problem: str


def validate(raw: RawColumns) -> CheckedColumns:
    """Check ``raw`` and convert it; DataError naming the first offending row otherwise."""
    n = len(raw.columns["timestamp"])
    if n == 0:
        raise DataError(
            f"{raw.source}: no data rows after the header; expected at least one bar "
            f"({','.join(REQUIRED_COLUMNS)})"
        )
    issues: list[_Issue] = []

    timestamps, timestamp_issue = _parse_timestamps(raw.columns["timestamp"])
    if timestamp_issue is not None:
        issues.append(timestamp_issue)
    # Order can only be judged among parsed timestamps, so stop at the first unparsed one.
    checked_prefix = n if timestamp_issue is None else timestamp_issue.row
    order_issue = _order_issue(timestamps[:checked_prefix], raw)
    if order_issue is not None:
        issues.append(order_issue)

    values: dict[str, npt.NDArray[np.float64]] = {}
    for name in VALUE_COLUMNS:
        values[name], issue = _parse_numbers(raw.columns[name], name)
        if issue is not None:
            issues.append(issue)
    issues.extend(_relation_issues(values))

    if issues:
        # Stable sort: within a row the issues keep the order they were checked in.
        first = min(issues, key=lambda issue: issue.row)
        if all(is_blank(column.iloc[first.row]) for column in raw.columns.values()):
            raise DataError(
                f"{raw.source}: {raw.where(first.row)} is blank; expected a bar "
                f"({','.join(REQUIRED_COLUMNS)}) or no line at all"
            )
        raise DataError(
            f"{raw.source}: {raw.where(first.row)}, column '{first.column}': {first.problem}"
        )
    return CheckedColumns(timestamps=timestamps, values=values)


def all_valid(
    timestamps: npt.NDArray[np.int64], values: dict[str, npt.NDArray[np.float64]]
) -> bool:
    """Whether parsed arrays pass the checks ``validate`` makes after parsing: at least one
    row, strictly increasing times, finite values, consistent OHLC, no negative volume."""
    return (
        len(timestamps) > 0
        and bool((np.diff(timestamps) > 0).all())
        and all(bool(np.isfinite(array).all()) for array in values.values())
        and not _relation_issues(values)
    )


def match_columns(found: list[str], name: str) -> dict[str, str]:
    """Map each required column to the file's own spelling of it (case-insensitive)."""
    by_key: dict[str, str] = {}
    for column in found:
        key = str(column).strip().lstrip("\ufeff").lower()
        if key in REQUIRED_COLUMNS and key in by_key:
            raise DataError(
                f"{name}: line 1 (header): columns {by_key[key]!r} and {column!r} both match "
                f"{key!r}; expected each of {', '.join(REQUIRED_COLUMNS)} once"
            )
        by_key.setdefault(key, str(column))
    missing = [column for column in REQUIRED_COLUMNS if column not in by_key]
    if missing:
        shown = ", ".join(str(column) for column in found) or "(none)"
        raise DataError(
            f"{name}: line 1 (header): missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; found columns: {shown}; expected "
            f"{','.join(REQUIRED_COLUMNS)} (any case, in any order, extra columns ignored)"
        )
    return {column: by_key[column] for column in REQUIRED_COLUMNS}


def is_blank(value: object) -> bool:
    """True for a missing or whitespace-only cell."""
    return (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and value.strip() == "")
    )


def _parse_timestamps(column: pd.Series) -> tuple[npt.NDArray[np.int64], _Issue | None]:
    """int64 ns UTC for every row (``_NAT`` where unparsable) and the first bad row, if any."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):  # Parquet with a tz-aware column
        ns, out_of_range = _to_utc_ns(column)
        missing = (ns == _NAT) & ~out_of_range
        bad = missing | out_of_range
        if bad.any():
            row = int(bad.argmax())
            problem = (
                f"value is empty; {_TIMESTAMP_EXPECTED}"
                if missing[row]
                else f"value {column.iloc[row].isoformat()!r} is {_OUT_OF_RANGE}"
            )
            return ns, _Issue(row, "timestamp", problem)
        return ns, None
    fast = parse_zoned_timestamps(column)
    if fast is not None:
        return fast, None
    return _parse_timestamps_per_row(column)


def parse_zoned_timestamps(column: pd.Series) -> npt.NDArray[np.int64] | None:
    """The common case, every value ISO-8601 with a zone, in one vectorised parse.

    None when any value needs a closer look (date-only, naive, empty, unparsable): the per-row
    path then accepts it or names the row.
    """
    if pa is not None and pc is not None:
        try:
            strings = pa.array(column, type=pa.large_string(), from_pandas=True)
            # A cast to a tz-aware type accepts only values with a zone designator.
            parsed = pc.cast(strings, pa.timestamp("ns", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        if parsed.null_count:
            return None
        return np.ascontiguousarray(parsed.cast(pa.int64()).to_numpy(), dtype=np.int64)
    try:
        # Without utc=True pandas refuses a mix of zoned and naive values, which is the check.
        parsed_pd = pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError):
        return None
    if not isinstance(parsed_pd.dtype, pd.DatetimeTZDtype) or parsed_pd.isna().any():
        return None
    ns, out_of_range = _to_utc_ns(parsed_pd)
    return None if out_of_range.any() else ns


def _parse_timestamps_per_row(column: pd.Series) -> tuple[npt.NDArray[np.int64], _Issue | None]:
    """Classify every value (empty, unparsable, naive, out of range, valid) with vectorised
    string operations, so mixed files (date-only next to zoned values, several offsets) still
    load and a bad one is named."""
    text = _as_text(column)
    missing = text.isna().to_numpy(dtype=bool) | (text.str.strip().fillna("") == "").to_numpy(
        dtype=bool
    )
    date_only = text.str.fullmatch(_DATE_ONLY, na=False).to_numpy(dtype=bool)
    zoned = text.str.contains(_ZONE_SUFFIX, na=False).to_numpy(dtype=bool) & ~date_only
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    unparsable = parsed.isna().to_numpy(dtype=bool) & ~missing
    naive = ~missing & ~unparsable & ~date_only & ~zoned
    ns, out_of_range = _to_utc_ns(parsed)

    bad = missing | unparsable | naive | out_of_range
    if not bad.any():
        return ns, None
    row = int(bad.argmax())
    value = text.iloc[row]
    if missing[row]:
        problem = f"value is empty; {_TIMESTAMP_EXPECTED}"
    elif unparsable[row]:
        problem = f"cannot parse {value!r} as a timestamp; {_TIMESTAMP_EXPECTED}"
    elif naive[row]:
        problem = (
            f"value {value!r} has no time zone (naive times are ambiguous); add 'Z' for UTC "
            f"or an offset such as +01:00, e.g. {_suggest_utc(value)!r}"
        )
    else:
        problem = f"value {value!r} is {_OUT_OF_RANGE}"
    return ns, _Issue(row, "timestamp", problem)


def _to_utc_ns(
    moments: pd.Series,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """int64 ns since the epoch of a tz-aware series (``_NAT`` for NaT and out-of-range values)
    and the mask of values outside int64 nanoseconds (years 1677-2262).

    pandas may hold the values in s, ms or us, where numpy's cast to ns would overflow silently.
    """
    values = moments.dt.tz_convert(None).to_numpy()
    unit, _ = np.datetime_data(values.dtype)
    raw = values.view(np.int64)
    if unit == "ns":
        return np.ascontiguousarray(raw), np.zeros(len(raw), dtype=bool)
    scale = _NS_PER_UNIT[unit]
    missing = raw == _NAT
    limit = np.iinfo(np.int64).max // scale
    out_of_range = ~missing & ((raw <= -limit) | (raw > limit))
    ns = np.where(missing | out_of_range, _NAT, raw * scale)
    return np.ascontiguousarray(ns, dtype=np.int64), out_of_range


def _as_text(column: pd.Series) -> pd.Series:
    """``column`` as strings, missing cells kept missing (not turned into the text 'nan')."""
    if isinstance(column.dtype, pd.StringDtype):
        return column
    return column.astype("string")


def _suggest_utc(value: str) -> str:
    return re.sub(r"\s+", "T", value.strip(), count=1) + "Z"


def _order_issue(timestamps: npt.NDArray[np.int64], raw: RawColumns) -> _Issue | None:
    if len(timestamps) < 2:
        return None
    steps = np.diff(timestamps)
    bad = steps <= 0
    if not bad.any():
        return None
    row = int(bad.argmax()) + 1
    text = raw.columns["timestamp"]
    value, previous = _show_timestamp(text.iloc[row]), _show_timestamp(text.iloc[row - 1])
    if steps[row - 1] == 0:
        problem = (
            f"value {value} is a duplicate of {raw.where(row - 1)} ({previous}); expected "
            f"strictly increasing timestamps, one bar per time"
        )
    else:
        problem = (
            f"value {value} is earlier than {raw.where(row - 1)} ({previous}); expected "
            f"strictly increasing timestamps (sort the file by time)"
        )
    return _Issue(row, "timestamp", problem)


def _show_timestamp(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return repr(value.isoformat())
    return repr(str(value))


def _parse_numbers(column: pd.Series, name: str) -> tuple[npt.NDArray[np.float64], _Issue | None]:
    """float64 values (NaN where not a number) and the first non-finite row, if any."""
    if column.dtype.kind in "iuf":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        text: pd.Series | None = None
    else:
        # Text (or bools) means at least one cell is not a number: coerce, then name it.
        text = _as_text(column)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.ascontiguousarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if not bad.any():
        return values, None
    row = int(bad.argmax())
    if text is None:
        # Only nullable (Arrow-backed, from Parquet) columns tell a null from a NaN; in a numpy
        # column a NaN was written as such, since the CSV reader keeps empty cells as text.
        is_null = not isinstance(column.dtype, np.dtype) and bool(column.isna().iloc[row])
        problem = (
            "value is empty" if is_null else f"value {_show_number(values[row])!r} is not finite"
        )
    else:
        raw = text.iloc[row]
        if pd.isna(raw) or str(raw).strip() == "":
            problem = "value is empty"
        elif np.isnan(values[row]) and str(raw).strip().lower() not in ("nan", "+nan", "-nan"):
            problem = f"value {raw!r} is not a number"
        else:
            problem = f"value {raw!r} is not finite"
    return values, _Issue(row, name, f"{problem}; {_NUMBER_EXPECTED}")


def _relation_issues(values: dict[str, npt.NDArray[np.float64]]) -> list[_Issue]:
    """OHLC consistency and volume sign; comparisons with NaN are False, so rows already
    reported as not finite are not reported twice."""
    o, h, lo, c, v = (values[name] for name in VALUE_COLUMNS)
    issues: list[_Issue] = []

    def first(mask: npt.NDArray[np.bool_]) -> int | None:
        return int(mask.argmax()) if mask.any() else None

    row = first(h < lo)
    if row is not None:
        issues.append(
            _Issue(
                row,
                "high",
                f"value {_show_number(h[row])} is below low "
                f"{_show_number(lo[row])}; expected high >= low",
            )
        )
    for name, series in (("open", o), ("close", c)):
        row = first((series < lo) | (series > h))
        if row is not None:
            issues.append(
                _Issue(
                    row,
                    name,
                    f"value {_show_number(series[row])} is outside [low "
                    f"{_show_number(lo[row])}, high {_show_number(h[row])}]; expected "
                    f"low <= {name} <= high",
                )
            )
    row = first(v < 0)
    if row is not None:
        issues.append(
            _Issue(row, "volume", f"value {_show_number(v[row])} is negative; expected volume >= 0")
        )
    return issues


def _show_number(value: float | np.floating) -> str:
    """Shortest text that reads back as ``value``, without a trailing '.0' (-5, not -5.0)."""
    if not np.isfinite(value):
        return str(float(value))
    return np.format_float_positional(float(value), trim="-")
