"""Loading blueprints from YAML with errors that name the file, line and field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simpletrader.config.blueprint import Blueprint
from simpletrader.core.errors import ConfigError


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    node = v
                    line = k.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def format_validation_error(
    error: ValidationError, where: str, node: yaml.Node | None = None
) -> str:
    """One line per problem: ``file:line: field.path: message (got value)``."""
    lines = []
    for item in error.errors():
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(node, loc)
        place = f"{where}:{line}" if line is not None else where
        msg = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        shown = "" if isinstance(got, Mapping | list) or got is None else f" (got {got!r})"
        lines.append(f"{place}: {field}: {msg}{shown}")
    return "; ".join(lines)


def load_blueprint_text(
    text: str, where: str = "<blueprint>"
) -> tuple[Blueprint, yaml.Node | None]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}{line}: invalid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a blueprint is a YAML mapping, got {type(raw).__name__}")
    try:
        return Blueprint.model_validate(raw), node
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where, node)) from None


def load_blueprint(path: str | Path) -> Blueprint:
    """Read and validate a blueprint file; ``ConfigError`` names file, line and field."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"blueprint file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read blueprint {p}: {exc}") from None
    blueprint, _ = load_blueprint_text(text, str(p))
    return blueprint
