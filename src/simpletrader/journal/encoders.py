"""JSON encoders generated per class, the way dataclasses generate ``__init__``.

A journal event class or flow DTO class gets, the first time it is serialised, a Python
function with its field names and types baked into one f-string: a few hundred nanoseconds
per entry where pydantic's serializer takes microseconds. A record holding a model (a flow
entry) gets one function for its whole line (:func:`held_model_encoder`). The text is compact
JSON that the pydantic validators read back to an equal object:

- str: JSON-escaped, except ids and symbols whose anchored pattern admits only characters
  JSON takes as they are (checked once per pattern, see :func:`safe_pattern`);
- int as digits, bool as ``true``/``false``, float as its shortest round-trip ``repr``
  (infinities as ``±1e999``, NaN as ``"NaN"``), Decimal as its exact text in a string, StrEnum
  as its value, an aware datetime as ISO 8601 in UTC (``...Z``), tuples as arrays, ``None`` as
  ``null``;
- a flow DTO leaves out the fields equal to their defaults (``==``, as pydantic's
  ``exclude_defaults``), nested models too.

A class with a field type outside these gets ``None``: the codec then uses pydantic for it.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel

TextEncoder = Callable[[Any], str]

escape: Callable[[str], str] = json.encoder.encode_basestring
"""A str as a quoted JSON string (the C implementation where there is one)."""

# JSON has no infinities: 1e999 reads back as one (in pydantic and json.loads alike); a NaN
# goes as a string, which pydantic's float validator accepts.
_NON_FINITE = {"inf": "1e999", "-inf": "-1e999", "nan": '"NaN"'}
_CACHE_SIZE = 4096

# Formatting a float or an aware datetime costs ~0.5-1 µs, and runs repeat the same few values
# (a fraction, a confidence, the bar's time): both are cached by value. A cached text must not
# depend on which equal value came first, or a hash would depend on the process's history:
# equal nonzero floats have one repr (0.0 == -0.0 do not), and equal aware datetimes are one
# instant, written in UTC.
_FLOATS: dict[float, str] = {}
_DATETIMES: dict[datetime, str] = {}


def encode_float(value: float) -> str:
    """The shortest text that reads back as ``value`` (see ``_NON_FINITE`` for the others)."""
    if value.__class__ is not float:
        value = float(value)  # an int, or a NumPy float whose repr is not JSON
    if not value:
        return repr(value)  # 0.0 == -0.0: not a cache key
    text = _FLOATS.get(value)
    if text is None:
        if len(_FLOATS) >= _CACHE_SIZE:
            _FLOATS.clear()
        text = repr(value)
        text = _FLOATS[value] = _NON_FINITE.get(text, text)
    return text


_last_datetime: list[Any] = [None, ""]
"""The last datetime encoded and its text: a flow's DTOs share the clock's one object, and an
identity test is cheaper than hashing an aware datetime (held, so its id is not reused)."""


def encode_datetime(value: datetime) -> str:
    """ISO 8601: an aware datetime in UTC with ``Z``, a naive one as it is."""
    last = _last_datetime
    if value is last[0]:
        known: str = last[1]
        return known
    text = _DATETIMES.get(value)
    if text is None:
        if len(_DATETIMES) >= _CACHE_SIZE:
            _DATETIMES.clear()
        if value.tzinfo is None:
            text = value.isoformat()
        else:
            text = value.astimezone(UTC).isoformat()[:-6] + "Z"
        _DATETIMES[value] = text
    last[0], last[1] = value, text
    return text


class _Texts(dict[Any, str]):
    """Texts by value, each made the first time its value is seen (at most ``_CACHE_SIZE``).

    A journal writes the same ids and times again and again (an order's id in its submission,
    status and fill; one time in every entry of a bar): a hit is one dict lookup. Equal values
    must have one text, as for the other caches here.
    """

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, value: Any) -> str:
        text = self._make(value)
        if len(self) >= _CACHE_SIZE:
            self.clear()
        if value.__class__ is str or value.__class__ is int:  # a subclass may redefine ==
            self[value] = text
        return text


escaped = _Texts(escape)
"""A str as a quoted JSON string, by value."""

digits = _Texts("%d".__mod__)
"""A number as ``%d`` writes it, by value (equal numbers truncate to one integer)."""


def _needs_escape(char: str) -> bool:
    return char in '"\\' or char < " "


_CLASS = re.compile(r"\[([^\]]*)\]")
_SAFE_OUTSIDE_CLASSES = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:/^$()?*+{}|,"
)


def safe_pattern(pattern: str) -> bool:
    """Whether every string that fully matches ``pattern`` is JSON text once quoted.

    Conservative: anchored at both ends, ASCII, no escapes, no ``.``, no negated classes, no
    alternation outside a group, and no class admitting a quote, backslash or control character.
    """
    if not (pattern.isascii() and pattern.startswith("^") and pattern.endswith("$")):
        return False
    if "\\" in pattern:
        return False
    for content in _CLASS.findall(pattern):
        if content.startswith("^"):
            return False
        matcher = re.compile(f"[{content}]")
        if any(matcher.fullmatch(chr(c)) for c in range(128) if _needs_escape(chr(c))):
            return False
    rest = _CLASS.sub("", pattern)
    if not set(rest) <= _SAFE_OUTSIDE_CLASSES:
        return False
    depth = 0
    for char in rest:
        depth += (char == "(") - (char == ")")
        if char == "|" and depth == 0:
            return False
    return depth == 0


def _pattern_of(metadata: typing.Iterable[Any]) -> str | None:
    for item in metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            return pattern
        nested = getattr(item, "metadata", None)  # a FieldInfo inside Annotated
        if isinstance(nested, list):
            found = _pattern_of(nested)
            if found is not None:
                return found
    return None


class _Unsupported(Exception):
    """A field type the generator does not handle: the class keeps pydantic's serializer."""


class _Builder:
    """Source text and namespace of one generated function (and the nested encoders it calls)."""

    def __init__(self, models: Callable[[type[BaseModel]], TextEncoder | None]) -> None:
        self.names: dict[str, Any] = {
            "_esc": escape,
            "_str": escaped,
            "_int": digits,
            "_flt": encode_float,
            "_dt": encode_datetime,
        }
        self.models = models
        self.trusted_patterns = True

    def bind(self, value: Any) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def piece(self, tp: Any, var: str, metadata: typing.Sequence[Any] = ()) -> tuple[str, str]:
        """``(template, argument)``: ``template % argument`` is the JSON text of ``var``."""
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            inner, *extra = typing.get_args(tp)
            return self.piece(inner, var, [*metadata, *extra])
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1 or len(typing.get_args(tp)) != 2:
                raise _Unsupported(tp)
            return "%s", f"'null' if {var} is None else {self.expr(args[0], var, metadata)}"
        if origin is tuple:
            return self._tuple(typing.get_args(tp), var)
        if tp is bool:
            return "%s", f"'true' if {var} else 'false'"
        if tp is int:
            return "%d", var
        if tp is float:
            return "%s", f"_flt({var})"
        if tp is Decimal:
            return '"%s"', var
        if tp is AwareDatetime or (isinstance(tp, type) and issubclass(tp, datetime)):
            return '"%s"', f"_dt({var})"
        if isinstance(tp, type) and issubclass(tp, StrEnum):
            if any(_needs_escape(ch) for member in tp for ch in member.value):
                return "%s", f"_esc({var})"
            return '"%s"', var
        if isinstance(tp, type) and issubclass(tp, Enum):
            raise _Unsupported(tp)
        if tp is str:
            pattern = _pattern_of(metadata)
            if self.trusted_patterns and pattern is not None and safe_pattern(pattern):
                return '"%s"', var
            return "%s", f"_str[{var}]"
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            encoder = self.models(tp)
            if encoder is None:
                raise _Unsupported(tp)
            return "%s", f"{self.bind(encoder)}({var})"
        raise _Unsupported(tp)

    def expr(self, tp: Any, var: str, metadata: typing.Sequence[Any] = (), prefix: str = "") -> str:
        """An expression for ``prefix`` followed by the JSON text of ``var``."""
        template, argument = self.piece(tp, var, metadata)
        if template == "%s":
            return f"({prefix!r} + ({argument}))" if prefix else f"({argument})"
        return f"({literal(prefix) + template!r} % ({argument},))"

    def _tuple(self, args: tuple[Any, ...], var: str) -> tuple[str, str]:
        if len(args) == 2 and args[1] is Ellipsis:
            template, argument = self.piece(args[0], "x")
            if template == '"%s"' and argument == "x":  # safe strings: one join, no loop
                return "%s", f"""('["' + '","'.join({var}) + '"]') if {var} else '[]'"""
            if template == "%s" and argument.endswith("(x)") and argument.startswith("_"):
                # A flow's legs and commands are mostly one: no map and join for those.
                call = argument[:-3]
                return "[%s]", (
                    f"{call}({var}[0]) if len({var}) == 1 else ','.join(map({call}, {var}))"
                )
            return "[%s]", f"','.join([{self.expr(args[0], 'x')} for x in {var}])"
        if not args or Ellipsis in args:
            raise _Unsupported(args)
        parts = [self.piece(a, f"{var}[{k}]") for k, a in enumerate(args)]
        template = "[" + ",".join(p[0] for p in parts) + "]"
        return "%s", f"({template!r} % ({', '.join(p[1] for p in parts)},))"


def _without_none(tp: Any) -> Any:
    """``X`` for ``X | None`` (what is written once the value is known not to be None)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _plain_model(value: Any) -> bool:
    """A model whose equality is its fields' (no private attributes, no extra fields)."""
    return (
        isinstance(value, BaseModel)
        and not type(value).__private_attributes__
        and type(value).model_config.get("extra") != "allow"
    )


def _key(name: str) -> str:
    return json.dumps(name) + ":"


def literal(text: str) -> str:
    """``text`` as part of a ``%`` template."""
    return text.replace("%", "%%")


_DIRECTIVE = re.compile(r"(%[sd%])")
_NAME = re.compile(r"[A-Za-z_][\w.]*")
_PLAIN = re.compile(r"[\w.\[\]()]+")


def _joined(template: str, arguments: list[str], local: str = "a") -> tuple[list[str], str]:
    """Statements and an f-string for ``template % tuple(arguments)``, one argument a directive.

    An f-string joins its parts in one step, where ``%`` scans the whole template character by
    character: a third less time for a long entry. A field's own value gets ``!s`` (what ``%s``
    does); the generated expressions already give str. ``%d`` keeps its conversion of any
    number (``:d`` would refuse a float).
    """
    statements: list[str] = []
    parts: list[str] = []
    values = iter(arguments)
    for k, part in enumerate(_DIRECTIVE.split(template)):
        if k % 2 == 0 or part == "%%":
            text = part if k % 2 == 0 else "%"
            if text:
                parts.append("f" + repr(text.replace("{", "{{").replace("}", "}}")))
            continue
        value = next(values)
        if part == "%d":
            value = f"_int[{value}]"
        elif _NAME.fullmatch(value):
            value += "!s"
        if not _PLAIN.fullmatch(value.removesuffix("!s")):  # quotes: not inside this f-string
            statements.append(f"    {local}{len(statements)} = {value}")
            value = f"{local}{len(statements) - 1}"
        parts.append(f"f'{{{value}}}'")
    if next(values, None) is not None:
        raise ValueError(f"more arguments than directives in {template!r}")
    return statements, " ".join(parts) if parts else "''"


def _compile(source: str, names: dict[str, Any], qualname: str) -> TextEncoder:
    namespace = dict(names)
    exec(compile(source, f"<journal encoder {qualname}>", "exec"), namespace)
    encoder: TextEncoder = namespace["encode"]
    return encoder


def event_encoder(cls: type, prefix: str = "", suffix: str = "") -> TextEncoder | None:
    """``prefix`` + the JSON object of a dataclass event (every field) + ``suffix``."""
    hints = typing.get_type_hints(cls, include_extras=True)
    builder = _Builder(model_encoder)
    builder.trusted_patterns = False  # dataclasses validate nothing: escape every str
    names = [field.name for field in dataclasses.fields(cls)]
    template, arguments = literal(prefix) + "{", []
    try:
        for k, name in enumerate(names):
            piece, argument = builder.piece(hints[name], f"v{k}")
            template += literal(("," if k else "") + _key(name)) + piece
            arguments.append(argument)
    except _Unsupported:
        return None
    template += "}" + literal(suffix)
    # Slot reads one by one: cheaper than one attrgetter call and its tuple; a value used once
    # is read where it is used.
    lines = ["def encode(e):"]
    for k, name in enumerate(names):
        var = re.compile(rf"\bv{k}\b")
        if len(var.findall(arguments[k])) == 1:
            arguments[k] = var.sub(f"e.{name}", arguments[k])
        else:
            lines.append(f"    v{k} = e.{name}")
    statements, joined = _joined(template, arguments)
    lines += statements
    lines.append(f"    return {joined}")
    return _compile("\n".join(lines) + "\n", builder.names, cls.__qualname__)


def _unpack(builder: _Builder, names: list[str], source: str) -> str:
    """A statement binding ``v0, v1, ...`` to the fields ``names`` of the model ``source``."""
    if not names:
        return "    pass"
    targets = "".join(f"v{k}, " for k in range(len(names)))
    getter = builder.bind(operator.itemgetter(*names))
    if len(names) == 1:
        return f"    {targets}= ({getter}({source}.__dict__),)"
    return f"    {targets}= {getter}({source}.__dict__)"


_MODELS: dict[type[BaseModel], TextEncoder | None] = {}


def model_encoder(cls: type[BaseModel]) -> TextEncoder | None:
    """The JSON object of a pydantic model without the fields equal to their defaults."""
    if cls in _MODELS:
        return _MODELS[cls]
    _MODELS[cls] = None  # a model that contains itself stays with pydantic
    encoder = _model_function(cls, "m", ("", []), "")
    _MODELS[cls] = encoder
    return encoder


def held_model_encoder(
    cls: type[BaseModel], field: str, head: str, head_fields: typing.Sequence[str], tail: str
) -> TextEncoder | None:
    """For a record holding a ``cls`` in ``field``: ``head`` + the model's JSON + ``tail``.

    ``head`` is a ``%`` template of the record's ``head_fields`` (written as they are: the caller
    knows their types). One call, where a wrapper around :func:`model_encoder` takes two and
    copies the model's text once more.
    """
    model_encoder(cls)  # a model that contains itself must stay with pydantic here too
    if _MODELS[cls] is None:
        return None
    arguments = [f"r.{name}" for name in head_fields]
    return _model_function(cls, f"r.{field}", (head, arguments), tail)


def _model_function(
    cls: type[BaseModel], source: str, head: tuple[str, list[str]], tail: str
) -> TextEncoder | None:
    """``def encode(r)``: ``head`` + the JSON of the model ``source`` (``m``: the argument)."""
    decorators = cls.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers or cls.model_computed_fields:
        return None  # custom output: pydantic's serializer knows it, the generator does not
    builder = _Builder(model_encoder)
    if cls.model_config.get("regex_engine", "rust-regex") != "rust-regex":
        builder.trusted_patterns = False  # Python's ``$`` also matches before a final newline
    fields = cls.model_fields
    # Every field is written with a leading comma; the first one's is dropped, unless the first
    # field may be left out: then the comma is cut from whatever text comes first.
    first_required = bool(fields) and next(iter(fields.values())).is_required()
    pieces, arguments = [], []
    try:
        for k, (name, field) in enumerate(fields.items()):
            if field.default_factory is not None or field.alias or field.exclude:
                raise _Unsupported(name)
            var = f"v{k}"
            key = ("," if k or not first_required else "") + _key(name)
            if field.is_required():
                piece, argument = builder.piece(field.annotation, var, field.metadata)
                pieces.append(literal(key) + piece)
                arguments.append(argument)
                continue
            annotation = field.annotation
            if field.default is None:
                condition = f"{var} is not None"
                annotation = _without_none(annotation)
            elif _plain_model(field.default):
                # BaseModel.__eq__ costs ~1.5 µs; for a model of fields only it is this:
                # (``type()`` where ``.__class__`` would be one more slow model attribute read.)
                default = builder.bind(field.default)
                default_type = builder.bind(type(field.default))
                fields_of = builder.bind(field.default.__dict__)
                condition = (
                    f"{var} is not {default} and (type({var}) is not {default_type}"
                    f" or {var}.__dict__ != {fields_of})"
                )
            else:
                default = builder.bind(field.default)
                condition = f"{var} is not {default} and {var} != {default}"
            text = builder.expr(annotation, var, field.metadata, prefix=key)
            pieces.append("%s")
            arguments.append(f"{text} if {condition} else ''")
    except _Unsupported:
        return None
    head_template, head_arguments = head
    # Fields live in the instance dict: one itemgetter call reads them all.
    lines = ["def encode(m):" if source == "m" else "def encode(r):"]
    lines.append(_unpack(builder, list(fields), source))
    if first_required:
        template = head_template + "{" + "".join(pieces) + "}" + literal(tail)
        statements, joined = _joined(template, head_arguments + arguments)
    else:
        statements, before = _joined(head_template, head_arguments, "h")
        inner_statements, inner = _joined("".join(pieces), arguments)
        statements += inner_statements
        # Cut the leading comma of the first field written (none: nothing to cut).
        joined = f"{before} + '{{' + ({inner})[1:] + '}}' + {tail!r}"
    lines += statements
    lines.append(f"    return {joined}")
    return _compile("\n".join(lines) + "\n", builder.names, cls.__qualname__)
