"""Importing this module registers every built-in plugin."""

from simpletrader.plugins import context, entry, execution, exits, risks, signals, size, strategy

__all__ = ["context", "entry", "execution", "exits", "risks", "signals", "size", "strategy"]
