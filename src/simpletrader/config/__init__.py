"""Blueprints: the YAML schema of a strategy, loading with file:line errors, durations.

``load_blueprint(path)`` validates the schema; ``validate_blueprint(path)`` also checks the
plugins, their params and confidence ranges, and the data sources, without loading bars.
"""

from __future__ import annotations

from simpletrader.config.blueprint import Blueprint, PluginSpec
from simpletrader.config.durations import parse_duration
from simpletrader.config.loader import load_blueprint, parse_blueprint
from simpletrader.config.source import SourceMap
from simpletrader.config.validation import validate_blueprint

__all__ = [
    "Blueprint",
    "PluginSpec",
    "SourceMap",
    "load_blueprint",
    "parse_blueprint",
    "parse_duration",
    "validate_blueprint",
]
