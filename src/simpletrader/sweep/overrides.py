"""Blueprint fields addressed by dotted paths, overridden and validated before anything runs.

A path walks the blueprint mapping: field names, list indexes, and in a role's list of plugins
also the plugin's instance name (``workforce.context_worker.fast.params.period`` is
``workforce.context_worker.0.params.period`` when the first worker is named ``fast``). Under a
plugin's ``params`` the valid names are the fields of that plugin's ``Params`` model, set in the
blueprint or not.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simpletrader.config.blueprint import Blueprint, PluginSpec
from simpletrader.config.loader import format_validation_error
from simpletrader.core.errors import ConfigError, PluginError
from simpletrader.data.samples import SAMPLE_NAMES, sample_info
from simpletrader.pipeline.bootstrap import instantiate
from simpletrader.plugins.registry import lookup


def blueprint_mapping(blueprint: Blueprint) -> dict[str, Any]:
    """A mutable copy of what the blueprint sets, as plain dicts and lists.

    Only fields that were set are kept (a default is not "written"), so re-validating the
    mapping gives the same blueprint: some checks depend on whether a field was written.
    """
    return _dump(blueprint)  # type: ignore[no-any-return]


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {k: _dump(getattr(value, k)) for k in value.model_fields_set}
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _choices(names: Sequence[str], wanted: str) -> str:
    listed = ", ".join(names) if names else "none"
    close = difflib.get_close_matches(wanted, list(names), n=1)
    return f"valid: {listed}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _show(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def _list_index(items: Sequence[Any], part: str) -> int | None:
    if part.isdigit():
        k = int(part)
        return k if k < len(items) else None
    for k, item in enumerate(items):
        if isinstance(item, PluginSpec) and item.instance_name == part:
            return k
    return None


def set_path(raw: dict[str, Any], blueprint: Blueprint, path: str, value: Any) -> None:
    """Set the field at ``path`` in ``raw`` (the :func:`blueprint_mapping` of ``blueprint``).

    The blueprint itself is walked alongside, so fields left at their defaults can be
    addressed too (they are written into ``raw`` on the way). ConfigError names the path,
    the level that has no such field and the valid choices there.
    """
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise ConfigError(f"parameter path {path!r} is empty or has an empty part")
    node: Any = raw
    obj: Any = blueprint
    # Set while ``obj`` is a plugin's params: (plugin name, its Params model).
    params_of: tuple[str, type[BaseModel]] | None = None
    for i, part in enumerate(parts):
        here = ".".join(parts[:i]) or "the blueprint"
        last = i == len(parts) - 1
        if isinstance(obj, BaseModel):
            valid = list(type(obj).model_fields)
            if part not in valid:
                raise ConfigError(
                    f"parameter {path!r}: {here} has no field {part!r}; {_choices(valid, part)}"
                )
            if last:
                node[part] = value
                return
            child = getattr(obj, part)
            if part not in node:
                node[part] = _dump(child)
            params_of = None
            if isinstance(obj, PluginSpec) and part == "params":
                params_of = (obj.plugin, _plugin_params(parts, obj, ".".join(parts[:i])))
            node, obj = node[part], child
        elif isinstance(obj, list | tuple):
            index = _list_index(obj, part)
            if index is None:
                names = [item.instance_name for item in obj if isinstance(item, PluginSpec)]
                valid = [str(k) for k in range(len(obj))] + names
                raise ConfigError(
                    f"parameter {path!r}: {here} is a list of {len(obj)}; no item {part!r}; "
                    f"{_choices(valid, part)}"
                )
            if last:
                node[index] = value
                return
            node, obj = node[index], obj[index]
            params_of = None
        elif isinstance(obj, Mapping):
            valid = list(obj)
            if params_of is not None:
                # Params fields may be left at their defaults, so absent from the blueprint.
                valid = list(dict.fromkeys([*params_of[1].model_fields, *obj]))
            if part not in valid:
                what = f" (params of {params_of[0]})" if params_of is not None else ""
                raise ConfigError(
                    f"parameter {path!r}: {here}{what} has no field {part!r}; "
                    f"{_choices(valid, part)}"
                )
            if last:
                node[part] = value
                return
            if part not in obj:
                raise ConfigError(
                    f"parameter {path!r}: {here}.{part} is not set in the blueprint, so it has "
                    f"no fields to address; sweep {here}.{part} as a whole"
                )
            node, obj = node[part], obj[part]
            params_of = None
        else:
            raise ConfigError(
                f"parameter {path!r}: {here} is a value ({_show(obj)}), not a mapping or list; "
                f"it has no field {part!r}"
            )


def _plugin_params(parts: Sequence[str], spec: PluginSpec, where: str) -> type[BaseModel]:
    role = parts[1] if len(parts) > 1 and parts[0] == "workforce" else ""
    try:
        return lookup(role, spec.plugin).Params
    except PluginError as exc:
        raise ConfigError(f"{where}.plugin: {exc}") from None


def validate_plugins(blueprint: Blueprint) -> None:
    """Check every plugin of the workforce exists and accepts its params (ConfigError)."""
    for role, index, spec in blueprint.workforce.specs():
        where = f"workforce.{role}" if index is None else f"workforce.{role}.{index}"
        instantiate(role, spec, where)


def apply_overrides(blueprint: Blueprint, overrides: Mapping[str, Any]) -> Blueprint:
    """The blueprint with ``overrides`` ({path: value}) applied, validated like a loaded one
    and with every plugin's params checked against its ``Params`` model.

    ConfigError names the path and value at fault and what would be valid.
    """
    if not overrides:
        validate_plugins(blueprint)
        return blueprint
    shown = ", ".join(f"{p}={_show(v)}" for p, v in overrides.items())
    result = blueprint
    # Shorter paths first, each applied to the result of the ones before, so a swept
    # ``...plugin`` is in place before its ``...params.x`` is looked up in the new plugin.
    for path in sorted(overrides, key=lambda p: p.count(".")):
        raw = blueprint_mapping(result)
        set_path(raw, result, path, overrides[path])
        try:
            result = Blueprint.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, f"with {shown}")) from None
    try:
        validate_plugins(result)
    except ConfigError as exc:
        raise ConfigError(f"with {shown}: {exc}") from None
    return result


def resolve_sources(
    blueprint: Blueprint,
    base_dir: Path | None,
    data: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
) -> Blueprint:
    """The blueprint with every data source a sample name or an absolute path (``data``
    replaces them in symbol order, as ``backtest --data`` does) and ``start``/``end`` set."""
    from simpletrader.backtest.engine import resolve_source

    specs = blueprint.data.symbols
    if data and len(data) != len(specs):
        raise ConfigError(
            f"--data was given {len(data)} time(s) but the blueprint trades {len(specs)} "
            f"symbol(s) ({', '.join(s.symbol for s in specs)}); give one per symbol"
        )
    raw = blueprint_mapping(blueprint)
    for i, spec in enumerate(raw["data"]["symbols"]):
        source = resolve_source(data[i], None) if data else resolve_source(spec["source"], base_dir)
        spec["source"] = source if source in SAMPLE_NAMES else str(Path(source).resolve())
    if start is not None:
        raw["data"]["start"] = start
    if end is not None:
        raw["data"]["end"] = end
    try:
        return Blueprint.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "--start/--end")) from None


def symbol_source(item: str) -> tuple[str, str]:
    """``(symbol, source)`` for one ``--symbols`` item: a bundled sample (``GOOG_1d``), a sample's
    symbol (``GOOG``), ``SYMBOL=path`` or a data file (symbol: its name up to the first ``_``)."""
    from simpletrader.backtest.engine import resolve_source

    item = item.strip()
    if item in SAMPLE_NAMES:
        return sample_info(item).symbol, item
    by_symbol = [n for n in SAMPLE_NAMES if sample_info(n).symbol == item]
    if len(by_symbol) == 1:
        return item, by_symbol[0]
    symbol, sep, path = item.partition("=")
    if sep:
        if not symbol.strip() or not path.strip():
            raise ConfigError(f"--symbols item {item!r}: expected SYMBOL=PATH")
        return symbol.strip(), str(Path(resolve_source(path.strip(), None)).resolve())
    file = Path(item).expanduser()
    if file.is_file():
        return file.name.split(".")[0].split("_")[0], str(file.resolve())
    raise ConfigError(
        f"--symbols item {item!r} is neither a bundled sample ({', '.join(SAMPLE_NAMES)}), a "
        f"sample's symbol, SYMBOL=PATH nor an existing data file"
    )


def with_symbol(blueprint: Blueprint, symbol: str, source: str) -> Blueprint:
    """The single-symbol ``blueprint`` trading ``symbol`` from ``source`` instead.

    The original symbol's label and instrument overrides are dropped: they described the other
    instrument; the new one gets its default instrument.
    """
    specs = blueprint.data.symbols
    if len(specs) != 1:
        raise ConfigError(
            f"--symbols replaces the blueprint's one symbol, but {blueprint.name} trades "
            f"{len(specs)} ({', '.join(s.symbol for s in specs)})"
        )
    raw = blueprint_mapping(blueprint)
    raw["data"]["symbols"] = [{"symbol": symbol, "source": source}]
    return Blueprint.model_validate(raw)
