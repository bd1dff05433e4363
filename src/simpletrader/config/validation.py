"""``validate_blueprint``: everything that can be checked about a blueprint without its bars.

What ``simpletrader validate`` runs: the schema (as :func:`load_blueprint`), every plugin
instantiated from the registry with its params checked, confidence ranges of each planning
role checked for overlaps, and each symbol's data source found (a bundled sample or an
existing file). Facts' causality needs the bars, so it is checked when a run starts.
"""

from __future__ import annotations

from pathlib import Path

from simpletrader.config.blueprint import PLANNING_ROLES, Blueprint
from simpletrader.config.loader import load_blueprint
from simpletrader.config.source import locate
from simpletrader.core.errors import ConfigError, PluginError


def _plugin_problems(blueprint: Blueprint) -> list[str]:
    # Imported here: bootstrap wires the whole pipeline, which itself imports config.
    from simpletrader.pipeline.bootstrap import instantiate
    from simpletrader.pipeline.selection import RangedPlugin, RoleSelector
    from simpletrader.plugins.base import Plugin

    problems: list[str] = []
    ranged: dict[str, list[RangedPlugin]] = {role: [] for role in PLANNING_ROLES}
    for role, index, spec in blueprint.workforce.specs():
        where = f"workforce.{role}" if index is None else f"workforce.{role}.{index}"
        try:
            plugin: Plugin = instantiate(role, spec, where)
        except (ConfigError, PluginError) as exc:
            problems.append(str(exc))
            continue
        if role in ranged:
            lo, hi = spec.confidence
            ranged[role].append(RangedPlugin(lo, hi, plugin, f"{spec.instance_name} (#{index})"))
    source = blueprint.source_map
    for role, entries in ranged.items():
        try:
            RoleSelector(role, entries)
        except ConfigError as exc:
            # RoleSelector names the role's field; the file and line come from the source map.
            place = source.where(("workforce", role)) if source is not None else None
            problems.append(f"{place}: {exc}" if place else str(exc))
    return problems


def _data_problems(blueprint: Blueprint, base_dir: Path) -> list[str]:
    from simpletrader.data.samples import SAMPLE_NAMES

    problems = []
    for i, spec in enumerate(blueprint.data.symbols):
        if spec.source in SAMPLE_NAMES:
            continue
        path = Path(spec.source).expanduser()
        if (path if path.is_absolute() else base_dir / path).is_file() or path.is_file():
            continue
        where = locate(blueprint.source_map, f"data.symbols.{i}.source")
        problems.append(
            f"{where}: data file not found: {spec.source} (relative paths start at {base_dir}); "
            f"or use a bundled sample: {', '.join(SAMPLE_NAMES)} (got {spec.source!r})"
        )
    return problems


def validate_blueprint(path: str | Path, *, check_data_files: bool = True) -> Blueprint:
    """Load ``path`` and check everything that needs no market data; return the blueprint.

    Beyond the schema: each plugin name is registered for its role and its params validate;
    confidence ranges of a planning role do not overlap (the error names both plugins); with
    ``check_data_files``, each ``data.symbols[i].source`` is a bundled sample or an existing
    file (relative to the blueprint's folder). Raises one ConfigError listing every problem,
    each as ``file:line: field.path: message``.
    """
    blueprint = load_blueprint(path)
    problems = _plugin_problems(blueprint)
    if check_data_files:
        problems += _data_problems(blueprint, Path(path).resolve().parent)
    if problems:
        raise ConfigError("; ".join(problems))
    return blueprint
