"""The plugin registry: built-ins register themselves; third parties use the entry-point group
``simpletrader.plugins`` (each entry point names a module or a plugin class to import)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import TypeVar

from simpletrader.core.errors import PluginError
from simpletrader.plugins.base import ROLES, Plugin

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "simpletrader.plugins"

P = TypeVar("P", bound=type[Plugin])

_REGISTRY: dict[str, dict[str, type[Plugin]]] = {role: {} for role in ROLES}
_loaded = False


def register(name: str) -> Callable[[P], P]:
    """Class decorator: register a plugin under ``name`` for the role of its base class."""

    def decorate(cls: P) -> P:
        role = cls.role
        if role not in _REGISTRY:
            raise PluginError(f"plugin {cls.__qualname__} has unknown role {role!r}")
        existing = _REGISTRY[role].get(name)
        if existing is not None and existing is not cls:
            raise PluginError(
                f"{role} plugin name {name!r} is taken by {existing.__module__}."
                f"{existing.__qualname__}"
            )
        cls.plugin_name = name
        _REGISTRY[role][name] = cls
        return cls

    return decorate


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_module("simpletrader.plugins.builtin")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:
            raise PluginError(
                f"entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP} failed to "
                f"load: {exc}"
            ) from exc


def reload_entry_points() -> None:
    """Look for third-party plugins again (after installing a package at run time)."""
    global _loaded
    _loaded = False
    _load_all()


def available(role: str) -> dict[str, type[Plugin]]:
    _load_all()
    if role not in _REGISTRY:
        raise PluginError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return dict(_REGISTRY[role])


def lookup(role: str, name: str) -> type[Plugin]:
    plugins = available(role)
    try:
        return plugins[name]
    except KeyError:
        known = ", ".join(sorted(plugins)) or "none"
        raise PluginError(f"unknown {role} plugin {name!r}; registered: {known}") from None
