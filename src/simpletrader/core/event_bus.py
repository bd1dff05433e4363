"""In-process event bus: typed events, subscription by type, no work without subscribers.

A failing non-critical subscriber is logged and isolated; a critical one stops the run by
raising :class:`SubscriberError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from simpletrader.core.errors import SimpleTraderError

logger = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]


class SubscriberError(SimpleTraderError):
    """A critical subscriber failed; the run stops."""


class EventBus:
    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[type, list[tuple[Handler, bool]]] = {}

    def subscribe(
        self, event_type: type[E], handler: Callable[[E], None], *, critical: bool = False
    ) -> None:
        self._handlers.setdefault(event_type, []).append((handler, critical))

    def wants(self, event_type: type) -> bool:
        """True when someone listens to ``event_type``: publishers check this before building."""
        return event_type in self._handlers

    def publish(self, event: object) -> None:
        handlers = self._handlers.get(type(event))
        if not handlers:
            return
        for handler, critical in handlers:
            try:
                handler(event)
            except Exception as exc:
                name = getattr(handler, "__qualname__", repr(handler))
                if critical:
                    raise SubscriberError(
                        f"critical subscriber {name} failed on {type(event).__name__}: {exc}"
                    ) from exc
                logger.exception("subscriber %s failed on %s; isolated", name, type(event).__name__)
