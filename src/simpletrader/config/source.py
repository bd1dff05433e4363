"""Where each blueprint field came from: the file and the line of every key and list item.

The loader builds a :class:`SourceMap` from the YAML node tree and attaches it to the
``Blueprint`` and to each ``PluginSpec`` read from the file, so errors found later (a plugin's
params at bootstrap, say) still say ``file:line: field.path: message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import yaml

Loc = Sequence[str | int]

_MERGE_KEY = "<<"


def dotted(loc: Iterable[str | int]) -> str:
    """``("workforce", "entry_planner", 0)`` -> ``"workforce.entry_planner.0"``."""
    return ".".join(str(part) for part in loc)


def _key(loc: Loc | str) -> tuple[str, ...]:
    if isinstance(loc, str):
        return tuple(loc.split(".")) if loc else ()
    return tuple(str(part) for part in loc)


class SourceMap:
    """The file a blueprint came from and the 1-based line of each field path.

    Provenance, not content: two source maps always compare equal, so a blueprint loaded from
    a file equals the same blueprint built in Python.
    """

    __slots__ = ("duplicates", "file", "lines")

    def __init__(self, file: str, lines: dict[tuple[str, ...], int] | None = None) -> None:
        self.file = file
        self.lines: dict[tuple[str, ...], int] = lines if lines is not None else {}
        # (path of the repeated key, its line, line of the first occurrence)
        self.duplicates: list[tuple[tuple[str, ...], int, int]] = []

    @classmethod
    def from_node(cls, file: str, node: yaml.Node | None) -> SourceMap:
        """Map every key and list item under ``node`` (a composed YAML document)."""
        source = cls(file)
        if node is not None:
            source.lines[()] = node.start_mark.line + 1
            source._walk(node, ())
        return source

    def _walk(self, node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key == _MERGE_KEY:
                    # Merged keys belong to their anchor; the mapping's own keys override them.
                    continue
                here = (*path, key)
                line = key_node.start_mark.line + 1
                first = self.lines.get(here)
                if first is not None:
                    self.duplicates.append((here, line, first))
                    continue
                self.lines[here] = line
                self._walk(value_node, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                here = (*path, str(i))
                self.lines[here] = item.start_mark.line + 1
                self._walk(item, here)

    def has(self, loc: Loc | str) -> bool:
        """True when the file itself holds ``loc`` (not a default)."""
        return _key(loc) in self.lines

    def line(self, loc: Loc | str) -> int | None:
        """The line of ``loc``, or of its deepest ancestor present in the file."""
        key = _key(loc)
        for end in range(len(key), -1, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return line
        return None

    def where(self, loc: Loc | str) -> str:
        """``file:line`` of ``loc`` (just ``file`` when not even the document has a line)."""
        line = self.line(loc)
        return self.file if line is None else f"{self.file}:{line}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceMap) or other is None

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"SourceMap({self.file!r}, {len(self.lines)} paths)"


def locate(source: SourceMap | None, loc: Loc | str) -> str:
    """``file:line: field.path`` for a message, or just ``field.path`` without a source."""
    path = loc if isinstance(loc, str) else dotted(loc)
    shown = path or "(top level)"
    return shown if source is None else f"{source.where(path)}: {shown}"
