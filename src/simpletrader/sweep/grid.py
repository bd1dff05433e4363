"""Parameter axes and the grid they span: ``PATH=V1,V2,...`` parsing, ranges, random samples.

A value is read as a YAML scalar (``10`` is an int, ``0.5`` a float, ``true`` a bool,
``INDEPENDENT`` a string); a value ``start:stop:step`` is a numeric range that includes
``stop`` when the steps land on it (``5:20:5`` is 5, 10, 15, 20).
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from simpletrader.core.errors import ConfigError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(?::\s*({_NUMBER})\s*)?$")
# A range bigger than this is almost certainly a typo (a step of 0.0001 meant as 0.1).
MAX_RANGE_VALUES = 100_000


@dataclass(frozen=True, slots=True)
class ParamAxis:
    """One swept blueprint field: its dotted ``path`` and the values it takes, in order."""

    path: str
    values: tuple[Any, ...]


def parse_value(text: str) -> Any:
    """One value as a YAML scalar; dates stay text (the blueprint keeps dates as strings)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, date):
        return text.strip()
    if isinstance(value, str):
        # YAML 1.1 reads "1e-3" (no dot) as text; a sweep means the number.
        try:
            return float(value) if re.fullmatch(_NUMBER, value.strip()) else value
        except ValueError:
            return value
    return value


def _range_values(text: str, where: str) -> list[int | float] | None:
    match = _RANGE.match(text)
    if match is None:
        return None
    parts = [match.group(1), match.group(2), match.group(3) or "1"]
    try:
        start, stop, step = (Decimal(p) for p in parts)
    except InvalidOperation:
        return None
    if step == 0 or (stop - start) * step < 0:
        raise ConfigError(
            f"{where}: range {text!r} never reaches its stop; use start:stop:step with a step "
            f"that moves from start towards stop (e.g. 5:50:5)"
        )
    count = int((stop - start) / step) + 1
    if count > MAX_RANGE_VALUES:
        raise ConfigError(
            f"{where}: range {text!r} has {count:,} values (more than {MAX_RANGE_VALUES:,}); "
            f"use a larger step"
        )
    integral = all("." not in p and "e" not in p.lower() for p in parts)
    # Decimal steps so 0.1:0.5:0.1 gives 0.1, 0.2, ... and not 0.30000000000000004.
    values = [start + i * step for i in range(count)]
    return [int(v) for v in values] if integral else [float(v) for v in values]


def parse_values(text: str, where: str = "--param") -> tuple[Any, ...]:
    """``V1,V2,...`` and ``start:stop[:step]`` items, in order, duplicates kept out."""
    out: list[Any] = []
    for item in text.split(","):
        expanded = _range_values(item, where)
        for value in expanded if expanded is not None else [parse_value(item)]:
            if not any(_same(value, seen) for seen in out):
                out.append(value)
    return tuple(out)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def parse_param(text: str) -> ParamAxis:
    """``PATH=V1,V2,...`` from the command line; ConfigError for a malformed one."""
    path, sep, values = text.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise ConfigError(
            f"--param {text!r}: expected PATH=V1,V2,... such as "
            f"workforce.context_worker.0.params.period=10,20,30"
        )
    return ParamAxis(path, parse_values(values, f"--param {path}"))


def axes_from(params: Mapping[str, Any] | Iterable[ParamAxis]) -> list[ParamAxis]:
    """Axes from the Python API's ``params``: ``{path: values}``.

    A list, tuple or range is taken as the values themselves; a string is parsed as the
    command line's ``V1,V2,...`` text (ranges included); anything else is a single value.
    """
    if not isinstance(params, Mapping):
        axes = list(params)
    else:
        axes = []
        for path, values in params.items():
            if isinstance(values, str):
                axes.append(ParamAxis(path, parse_values(values, f"params[{path!r}]")))
            elif isinstance(values, Sequence | range):
                axes.append(ParamAxis(path, tuple(values)))
            else:
                axes.append(ParamAxis(path, (values,)))
    seen: set[str] = set()
    for axis in axes:
        if axis.path in seen:
            raise ConfigError(f"parameter {axis.path!r} is given twice; give its values once")
        if not axis.values:
            raise ConfigError(f"parameter {axis.path!r} has no values")
        seen.add(axis.path)
    return axes


def grid_size(axes: Sequence[ParamAxis]) -> int:
    return math.prod(len(a.values) for a in axes)


def _point(axes: Sequence[ParamAxis], index: int) -> dict[str, Any]:
    """The ``index``-th point of the grid, the last axis varying fastest."""
    point: dict[str, Any] = {}
    for axis in reversed(axes):
        index, k = divmod(index, len(axis.values))
        point[axis.path] = axis.values[k]
    return {a.path: point[a.path] for a in axes}


def grid_points(
    axes: Sequence[ParamAxis], sample: int | None = None, seed: int = 0
) -> list[dict[str, Any]]:
    """Every point of the grid (the last axis varies fastest), or ``sample`` distinct points
    drawn uniformly with ``seed`` and kept in grid order. No axes: one empty point."""
    if sample is None:
        return [
            dict(zip([a.path for a in axes], combo, strict=True))
            for combo in itertools.product(*(a.values for a in axes))
        ]
    if sample < 1:
        raise ConfigError(f"--random {sample}: the number of sampled points must be >= 1")
    total = grid_size(axes)
    if sample >= total:
        return grid_points(axes)
    # range() samples without materialising a grid of billions of points.
    chosen = sorted(random.Random(seed).sample(range(total), sample))
    return [_point(axes, i) for i in chosen]
