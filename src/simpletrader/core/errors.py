"""One exception hierarchy for the whole platform.

A user-facing error names the file, field or value at fault and what would be valid; the CLI
prints ``str(error)`` as one line and exits 2.
"""

from __future__ import annotations


class SimpleTraderError(Exception):
    """Base of every error the platform raises on purpose."""


class ConfigError(SimpleTraderError):
    """A blueprint or a setting is invalid (file, line and field in the message)."""


class DataError(SimpleTraderError):
    """Market data is missing or malformed (file, row, column and value in the message)."""


class PluginError(SimpleTraderError):
    """A plugin is unknown, misconfigured, or broke its contract."""


class LookAheadError(SimpleTraderError):
    """A worker tried to read a bar later than the current one."""


class SubscriberError(SimpleTraderError):
    """A critical event-bus subscriber failed; the run stops."""


class IllegalTransitionError(SimpleTraderError):
    """A record was asked to move to a state its state machine does not allow."""


class PlanError(SimpleTraderError):
    """A plan is inconsistent with its trade (exit levels on the wrong side, say)."""


class OrderRejectedError(SimpleTraderError):
    """An order was refused before reaching a connector (risk rule or invalid order)."""


class JournalError(SimpleTraderError):
    """A journal cannot give what was asked (a run that kept only its hash has no entries)."""


class StoreError(SimpleTraderError):
    """A store file is missing, corrupt, foreign, or of a newer schema."""


class UnknownIdError(SimpleTraderError):
    """An id is not in a journal or store, or in several runs (the message says what to do)."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class DependencyError(SimpleTraderError):
    """An optional package a feature needs is not installed (the message names the extra)."""


class ExecutionError(SimpleTraderError):
    """The execution layer met a state it cannot continue from."""
