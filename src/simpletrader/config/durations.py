"""Blueprint durations: ``30s``, ``90m``, ``2h``, ``2d``, ``1w``, ``3 bars``, or plain seconds.

The schema checks a duration's form when the blueprint loads (:data:`Duration`,
:data:`Latency`) and keeps the value as written; bootstrap converts it to seconds with
:func:`parse_duration` once the bar length is known (``N bars`` needs it).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86_400,
    "day": 86_400,
    "days": 86_400,
    "w": 604_800,
    "week": 604_800,
    "weeks": 604_800,
}
_BAR_UNITS = frozenset({"bar", "bars"})
_PATTERN = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)?\s*$")

ACCEPTED_FORMS = (
    "a whole number and a unit: s, m, h, d, w or bars (e.g. '30s', '90m', '2h', '2d', '1w', "
    "'3 bars'), or a whole number of seconds"
)


def _split(value: object) -> tuple[int, str | None]:
    """(count, unit) of a duration; unit None for plain seconds. Raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"duration {value!r} is not understood; use {ACCEPTED_FORMS}")
    if isinstance(value, int):
        return value, None
    match = _PATTERN.match(value)
    unit = match.group(2) if match is not None else None
    if match is None or (unit is not None and unit not in _UNITS and unit not in _BAR_UNITS):
        raise ValueError(f"duration {value!r} is not understood; use {ACCEPTED_FORMS}")
    return int(match.group(1)), unit


def parse_duration(value: str | int, bar_seconds: int | None = None) -> int:
    """Seconds in ``value`` (> 0); ``N bars`` needs the data's bar length in seconds.

    Raises ValueError naming the value and the accepted forms.
    """
    count, unit = _split(value)
    if count <= 0:
        raise ValueError(f"duration {value!r} must be > 0")
    if unit is None:
        return count
    if unit in _BAR_UNITS:
        if bar_seconds is None:
            raise ValueError(f"duration {value!r} counts bars, but the bar length is unknown")
        return count * bar_seconds
    return count * _UNITS[unit]


def counts_bars(value: str | int) -> bool:
    """True for a duration written in bars (its length in seconds depends on the data)."""
    return _split(value)[1] in _BAR_UNITS


def _duration(value: Any) -> int | str:
    count, _ = _split(value)
    if count <= 0:
        raise ValueError(f"duration {value!r} must be > 0; use {ACCEPTED_FORMS}")
    return value if isinstance(value, int) else value.strip()


def _latency(value: Any) -> int | str:
    count, _ = _split(value)
    if count < 0:
        raise ValueError(f"latency {value!r} must be >= 0; use {ACCEPTED_FORMS}")
    # Zero in any unit is stored as 0, so consumers can test the value for truth.
    if count == 0:
        return 0
    return value if isinstance(value, int) else value.strip()


_SCHEMA = WithJsonSchema(
    {
        "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
        "description": f"A duration: {ACCEPTED_FORMS}.",
    }
)

Duration = Annotated[int | str, PlainValidator(_duration), _SCHEMA]
"""A positive duration as written in the blueprint (form checked at load)."""

Latency = Annotated[int | str, PlainValidator(_latency), _SCHEMA]
"""A duration that may be zero (stored as ``0``)."""
