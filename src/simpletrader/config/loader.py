"""Loading blueprints from YAML with errors that name the file, line and field.

Every problem is reported as ``file:line: field.path: message (got value)``: invalid YAML,
a duplicated key (YAML would silently keep the last one), a document that is not a mapping,
and every schema violation (an unknown key suggests the nearest valid one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simpletrader.config.blueprint import Blueprint
from simpletrader.config.messages import format_errors
from simpletrader.config.source import SourceMap, dotted
from simpletrader.core.errors import ConfigError

_TOP_KEYS = ", ".join(Blueprint.model_fields)


def _parse_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f"{where}:{mark.line + 1}" if mark is not None else where
        column = f" (column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "unreadable"
        hint = "; YAML indents with spaces, not tabs" if "'\\t'" in problem else ""
        raise ConfigError(f"{place}: invalid YAML{column}: {problem}{hint}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return raw, node


def format_validation_error(
    error: ValidationError, where: str, node: yaml.Node | None = None
) -> str:
    """A blueprint ValidationError as ``where[:line]: field.path: message (got value)``.

    ``where`` is a file or any label (``--start/--end``); ``node``, the composed YAML document,
    adds line numbers.
    """
    return format_errors(error, Blueprint, SourceMap.from_node(where, node))


def parse_blueprint(text: str, where: str = "<blueprint>") -> Blueprint:
    """Validate blueprint YAML ``text``; ``where`` (usually the file path) prefixes errors.

    Raises ConfigError with one ``where:line: field.path: message`` per problem.
    """
    raw, node = _parse_yaml(text, where)
    source = SourceMap.from_node(where, node)
    if source.duplicates:
        raise ConfigError(
            "; ".join(
                f"{where}:{line}: {dotted(path)}: duplicate key (first at line {first}); "
                f"YAML would keep only the last one"
                for path, line, first in source.duplicates
            )
        )
    if raw is None:
        raise ConfigError(f"{where}: the blueprint is empty; expected a mapping with {_TOP_KEYS}")
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else f"{type(raw).__name__} {raw!r}"
        raise ConfigError(
            f"{source.where(())}: a blueprint is a YAML mapping (key: value) with {_TOP_KEYS}; "
            f"got {kind}"
        )
    try:
        blueprint = Blueprint.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, Blueprint, source)) from None
    blueprint.attach_source(source)
    return blueprint


def load_blueprint_text(
    text: str, where: str = "<blueprint>"
) -> tuple[Blueprint, yaml.Node | None]:
    """Like :func:`parse_blueprint`, also returning the composed YAML document."""
    blueprint = parse_blueprint(text, where)
    return blueprint, _parse_yaml(text, where)[1]


def load_blueprint(path: str | Path) -> Blueprint:
    """Read and validate a blueprint file; ``ConfigError`` names file, line and field.

    The result remembers its file and lines (``blueprint.source_map``), so bootstrap errors
    (a plugin's params, overlapping confidence ranges) point into the file as well.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"blueprint file not found: {p}")
    if not p.is_file():
        raise ConfigError(f"blueprint path is not a file: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read blueprint {p}: {exc}") from None
    return parse_blueprint(text, str(p))
