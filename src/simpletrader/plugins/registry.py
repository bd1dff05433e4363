"""The plugin registry: which plugin class a blueprint's ``plugin:`` name means, per role.

Built-ins register themselves with :func:`register` when ``simpletrader.plugins.builtin`` is
imported. Third parties publish an entry point in the group ``simpletrader.plugins``; its value
names a module whose import registers plugins with :func:`register`
(``acme = "acme_plugins.workers"``), or one plugin class (``acme_rsi = "acme_plugins:Rsi"``),
registered under the entry point's name unless it registered itself. Entry points are read
once, on the first lookup; :func:`reload_entry_points` reads them again.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Callable
from difflib import get_close_matches
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

from simpletrader.core.errors import PluginError
from simpletrader.plugins.base import ROLE_BASES, ROLES, Plugin

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "simpletrader.plugins"

P = TypeVar("P", bound=type[Plugin])

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

_REGISTRY: dict[str, dict[str, type[Plugin]]] = {role: {} for role in ROLES}
_loaded = False
_load_error: str | None = None


def register(name: str) -> Callable[[P], P]:
    """Class decorator: register a plugin under ``name`` for the role of its base class.

    The class must subclass one role base (``ContextWorker``, ``SignalDetector``, ...) and
    implement its method. Raises PluginError for a malformed name, a class without a role or
    with unimplemented methods, or a name another class of the same role already holds.
    """

    def decorate(cls: P) -> P:
        _add(name, cls)
        return cls

    return decorate


def _add(name: str, cls: type[Plugin]) -> None:
    where = f"{cls.__module__}.{cls.__qualname__}"
    if not _NAME.match(name):
        raise PluginError(
            f"plugin name {name!r} of {where} is not valid; use letters, digits, '_', '-' or '.',"
            f" starting with a letter or '_'"
        )
    if not (isinstance(cls, type) and issubclass(cls, Plugin)) or cls.role not in _REGISTRY:
        bases = ", ".join(base.__name__ for base in ROLE_BASES.values())
        raise PluginError(f"{where} is not a plugin; subclass one of {bases}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise PluginError(f"{cls.role} plugin {name!r} ({where}) does not implement {missing}()")
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)):
        raise PluginError(f"{where}.Params must be a pydantic BaseModel subclass")
    existing = _REGISTRY[cls.role].get(name)
    if existing is not None and existing is not cls:
        raise PluginError(
            f"{cls.role} plugin name {name!r} of {where} is taken by "
            f"{existing.__module__}.{existing.__qualname__}; choose another name"
        )
    cls.plugin_name = name
    _REGISTRY[cls.role][name] = cls


def _describe_entry_point(ep: EntryPoint) -> str:
    dist = ep.dist
    origin = f" (distribution {dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {ep.name!r} = {ep.value!r}{origin}"


def _load_entry_point(ep: EntryPoint) -> None:
    loaded: Any = ep.load()
    if isinstance(loaded, type) and issubclass(loaded, Plugin):
        # A class named by the entry point counts as registered once it holds a name of its
        # role; a subclass of a registered plugin inherits plugin_name, hence the identity test.
        if _REGISTRY.get(loaded.role, {}).get(loaded.plugin_name) is not loaded:
            _add(ep.name, loaded)
    elif not inspect.ismodule(loaded):
        raise PluginError(f"it names {loaded!r}, which is neither a module nor a plugin class")


def _load_all() -> None:
    global _loaded, _load_error
    if _loaded:
        if _load_error is not None:
            raise PluginError(_load_error)
        return
    _loaded = True
    try:
        import_module("simpletrader.plugins.builtin")
    except BaseException:
        # Not loaded after all: the next lookup tries again and raises the same error.
        _loaded = False
        raise
    failures = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            _load_entry_point(ep)
        except Exception as exc:
            failures.append(f"{_describe_entry_point(ep)}: {type(exc).__name__}: {exc}")
    if failures:
        _load_error = (
            f"{len(failures)} plugin entry point(s) of group {ENTRY_POINT_GROUP!r} failed to "
            f"load; fix or uninstall the distribution: " + "; ".join(failures)
        )
        raise PluginError(_load_error)


def reload_entry_points() -> None:
    """Read the entry points again (after installing a plugin package at run time).

    Raises PluginError naming every entry point that fails to load.
    """
    global _loaded, _load_error
    importlib.invalidate_caches()
    _loaded = False
    _load_error = None
    _load_all()


def available(role: str) -> dict[str, type[Plugin]]:
    """The registered plugins of ``role``, by name (built-ins and entry points)."""
    _load_all()
    if role not in _REGISTRY:
        raise PluginError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return dict(_REGISTRY[role])


def lookup(role: str, name: str) -> type[Plugin]:
    """The plugin class registered as ``name`` for ``role``.

    Raises PluginError listing the registered names (and the nearest one, or the role the name
    belongs to when it is registered for another role).
    """
    plugins = available(role)
    try:
        return plugins[name]
    except KeyError:
        pass
    hints = []
    close = get_close_matches(name, list(plugins), n=1, cutoff=0.6)
    if close:
        hints.append(f"did you mean {close[0]!r}?")
    elsewhere = [other for other in ROLES if other != role and name in _REGISTRY[other]]
    if elsewhere:
        hints.append(f"{name!r} is a {' and a '.join(elsewhere)} plugin")
    known = ", ".join(sorted(plugins)) or "none"
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise PluginError(f"unknown {role} plugin {name!r}{hint}; registered: {known}")


class _Info(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ParamInfo(_Info):
    """One parameter of a plugin's ``Params`` model."""

    name: str
    type: str
    required: bool
    default: Any = None
    constraints: str = ""
    description: str = ""


class PluginInfo(_Info):
    """What ``simpletrader plugins`` shows for one registered plugin."""

    name: str
    role: str
    summary: str
    qualname: str
    params: tuple[ParamInfo, ...]


# Constraint attributes of pydantic's field metadata (annotated_types objects), as shown.
_BOUNDS: tuple[tuple[str, str], ...] = (
    ("gt", ">"),
    ("ge", ">="),
    ("lt", "<"),
    ("le", "<="),
    ("multiple_of", "multiple of"),
    ("min_length", "min length"),
    ("max_length", "max length"),
    ("pattern", "matches"),
)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _constraints(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for attribute, word in _BOUNDS:
            value = getattr(item, attribute, None)
            if value is not None:
                parts.append(f"{word} {value}")
    return ", ".join(parts)


def _param(name: str, field: FieldInfo) -> ParamInfo:
    required = field.is_required()
    default = None if required else field.get_default(call_default_factory=True)
    return ParamInfo(
        name=name,
        type=_type_name(field.annotation),
        required=required,
        default=default,
        constraints=_constraints(field),
        description=field.description or "",
    )


def _summary(cls: type) -> str:
    # The class's own docstring only: an inherited one describes the role, not the plugin.
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return ""
    return inspect.cleandoc(doc).split("\n", 1)[0].strip()


def describe(role: str | None = None) -> tuple[PluginInfo, ...]:
    """Every registered plugin (of ``role`` if given): name, role, first docstring line, params.

    Ordered by role as in the pipeline, then by name.
    """
    roles = ROLES if role is None else (role,)
    infos = []
    for r in roles:
        for name, cls in sorted(available(r).items()):
            infos.append(
                PluginInfo(
                    name=name,
                    role=r,
                    summary=_summary(cls),
                    qualname=f"{cls.__module__}.{cls.__qualname__}",
                    params=tuple(_param(n, f) for n, f in cls.Params.model_fields.items()),
                )
            )
    return tuple(infos)
