"""Blueprint durations: `30s`, `90m`, `2h`, `2d`, `1w`, `3 bars`, or plain seconds."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|bars?)?\s*$")


def parse_duration(value: str | int, bar_seconds: int | None = None) -> int:
    """Seconds in ``value``; ``N bars`` needs the data's bar length in seconds."""
    if isinstance(value, bool):
        raise ValueError(f"duration {value!r} is not a number of seconds or a text like '2d'")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"duration {value} must be > 0 seconds")
        return value
    match = _PATTERN.match(str(value))
    if match is None:
        raise ValueError(
            f"duration {value!r} is not understood; use e.g. '30s', '90m', '2h', '2d', '1w', "
            "'3 bars' or a number of seconds"
        )
    number, unit = int(match.group(1)), match.group(2) or "s"
    if number <= 0:
        raise ValueError(f"duration {value!r} must be > 0")
    if unit.startswith("bar"):
        if bar_seconds is None:
            raise ValueError(f"duration {value!r} counts bars, but the bar length is unknown")
        return number * bar_seconds
    return number * _UNITS[unit]
