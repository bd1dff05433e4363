"""In-process event bus: typed events, subscription by type, no work without subscribers.

Events are plain objects; a subscriber to a class also receives its subclasses' events (so
subscribing to ``object`` sees everything). Dispatch is synchronous, in subscription order.
A failing non-critical subscriber is logged and isolated; a critical one stops the run by
raising :class:`SubscriberError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from simpletrader.core.errors import SubscriberError

__all__ = ["EventBus", "SubscriberError"]

logger = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]

# After this many logged failures of one subscriber, further ones are only counted: a broken
# observer on a million-bar run must not bury the log.
MAX_LOGGED_FAILURES = 10


def _name(handler: Handler) -> str:
    return str(getattr(handler, "__qualname__", None) or repr(handler))


class _Wanted(dict[type, bool]):
    """Whether anyone listens to an event type, resolved on a type's first lookup."""

    __slots__ = ("_bus",)

    def __init__(self, bus: EventBus) -> None:
        super().__init__()
        self._bus = bus

    def __missing__(self, event_type: type) -> bool:
        wanted = bool(self._bus._route(event_type))
        self[event_type] = wanted
        return wanted


class EventBus:
    """Publish/subscribe by event type.

    Publishers that would have to build an event only for observers ask :attr:`wants` first;
    :meth:`publish` of a type nobody subscribed to is one dict lookup.
    """

    __slots__ = ("_failures", "_routes", "_subscriptions", "_wanted", "wants")

    def __init__(self) -> None:
        self._subscriptions: dict[type, list[tuple[Handler, bool]]] = {}
        # Per concrete event type, the handlers of it and of its base classes, resolved once.
        self._routes: dict[type, tuple[tuple[Handler, bool], ...]] = {}
        # Keyed by id(): a callable object need not be hashable.
        self._failures: dict[int, int] = {}
        self._wanted = _Wanted(self)
        # The dict's own lookup, not a method of ours: publishers ask it for every event they
        # might build (a dozen times an order), and a Python call would cost twice the lookup.
        self.wants: Callable[[type], bool] = self._wanted.__getitem__
        """``wants(event_type)``: True when someone listens to ``event_type`` (or a base of
        it); publishers check this before building an event."""

    def subscribe(
        self, event_type: type[E], handler: Callable[[E], None], *, critical: bool = False
    ) -> None:
        """Call ``handler(event)`` for every published ``event_type`` (or subclass) event.

        A ``critical`` handler's exception stops the run as :class:`SubscriberError`; any other
        handler's exception is logged and the remaining handlers still run.
        """
        if not isinstance(event_type, type):
            raise TypeError(f"subscribe() needs an event class, got {event_type!r}")
        self._subscriptions.setdefault(event_type, []).append((handler, critical))
        self._routes.clear()
        self._wanted.clear()

    def unsubscribe(self, event_type: type, handler: Callable[[Any], None]) -> None:
        """Remove ``handler`` from ``event_type``; raises ValueError if it was not subscribed."""
        entries = self._subscriptions.get(event_type, [])
        for i, (known, _) in enumerate(entries):
            if known == handler:
                del entries[i]
                break
        else:
            raise ValueError(f"{_name(handler)} is not subscribed to {event_type.__name__}")
        if not entries:
            del self._subscriptions[event_type]
        self._routes.clear()
        self._wanted.clear()

    def _route(self, event_type: type) -> tuple[tuple[Handler, bool], ...]:
        route = self._routes.get(event_type)
        if route is None:
            subscriptions = self._subscriptions
            route = tuple(
                entry for base in event_type.__mro__ for entry in subscriptions.get(base, ())
            )
            self._routes[event_type] = route
        return route

    def publish(self, event: object) -> None:
        """Deliver ``event`` to its subscribers, synchronously, in subscription order."""
        for handler, critical in self._route(type(event)):
            try:
                handler(event)
            except Exception as exc:
                if critical:
                    raise SubscriberError(
                        f"critical subscriber {_name(handler)} failed on "
                        f"{type(event).__name__}: {type(exc).__name__}: {exc}"
                    ) from exc
                self._isolate(handler, event)

    def failures(self, handler: Callable[[Any], None]) -> int:
        """How many events ``handler`` failed on (non-critical failures are counted here)."""
        return self._failures.get(id(handler), 0)

    def _isolate(self, handler: Handler, event: object) -> None:
        key = id(handler)
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        if count <= MAX_LOGGED_FAILURES:
            logger.exception(
                "subscriber %s failed on %s; isolated, the run continues",
                _name(handler),
                type(event).__name__,
            )
        if count == MAX_LOGGED_FAILURES:
            logger.error(
                "subscriber %s failed %d times; further failures are counted, not logged",
                _name(handler),
                count,
            )
