"""Pydantic validation errors as blueprint messages: ``file:line: field.path: message (got x)``.

Shared by the loader (the blueprint schema) and bootstrap (each plugin's ``Params``), so an
unknown key always suggests the nearest valid one and lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simpletrader.config.source import SourceMap, locate

_MAX_SHOWN = 80

# Pydantic's wording names Python types; a blueprint author writes YAML.
_REWORDED = (
    ("Input should be a valid tuple", "Input should be a list"),
    ("Input should be a valid list", "Input should be a list"),
    (
        "Input should be a valid dictionary or instance of",
        "Input should be a mapping (key: value) for",
    ),
    ("Input should be a valid dictionary", "Input should be a mapping (key: value)"),
    ("Tuple should", "List should"),
)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return _models_in(get_args(annotation)[0])
    return [m for arg in get_args(annotation) if arg is not Ellipsis for m in _models_in(arg)]


def model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose keys are valid at ``loc`` under ``root`` (list indices are skipped)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            continue
        if model is None:
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        candidates = _models_in(field.annotation)
        model = candidates[0] if candidates else None
    return model


def _unknown_key(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    key = str(loc[-1]) if loc else ""
    model = model_at(root, loc[:-1])
    if model is None:
        return "unknown key"
    valid = list(model.model_fields)
    close = get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}valid keys: {', '.join(valid) or 'none'}"


def _shown(value: Any) -> str:
    if value is None or isinstance(value, dict | list | tuple):
        return ""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return f" (got {text})"


def _message(item: Any, root: type[BaseModel], loc: Sequence[str | int]) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return _unknown_key(root, loc)
    if kind == "missing":
        return "missing required field"
    msg = str(item["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    for old, new in _REWORDED:
        if msg.startswith(old):
            msg = new + msg[len(old) :]
            break
    msg = msg.replace(" after validation", "")
    got = item.get("input")
    if kind == "string_type" and isinstance(got, bool):
        msg += "; YAML reads yes/no/on/off/true/false as booleans, quote the value"
    shown = _shown(got)
    # A validator's own message often quotes a text value already ('two days' ...).
    return msg if isinstance(got, str) and repr(got) in msg else msg + shown


def format_errors(
    error: ValidationError,
    root: type[BaseModel],
    source: SourceMap | None,
    prefix: Sequence[str | int] = (),
) -> str:
    """One ``file:line: field.path: message (got value)`` per problem, joined by ``; ``.

    ``root`` is the model that was validated and ``prefix`` its path in the blueprint
    (``("workforce", "context_worker", "0", "params")`` for a plugin's params).
    """
    items = error.errors()
    # Validator wrappers (function-after[...]) appear in loc but are not fields.
    locs = [
        [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        for item in items
    ]
    found = []
    for item, loc in zip(items, locs, strict=True):
        if item["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        ):
            # Pydantic also reports a list as too short when one of its items is invalid.
            continue
        full = [*prefix, *loc]
        line = source.line(full) if source is not None else None
        found.append((line or 0, f"{locate(source, full)}: {_message(item, root, loc)}"))
    # In file order, which is how an author reads them; pydantic reports in schema order.
    found.sort(key=lambda pair: pair[0])
    return "; ".join(text for _, text in found)
