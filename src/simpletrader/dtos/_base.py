"""Shared building blocks of every DTO: frozen models, Decimal money, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

_new = object.__new__
# The slots every pydantic instance carries; writing them through their descriptors is what
# ``model_construct`` does, minus its per-field loop over aliases and defaults.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_REQUIRED = object()


class FrozenModel(BaseModel):
    """Immutable, strict-shaped DTO base: unknown fields are errors, containers are tuples."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=False, allow_inf_nan=False, defer_build=True
    )

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """The model of ``values`` without validating them: for the platform's own records only.

        Use it where every value is already what validation would make of it: an id the
        platform generated, a part taken from a validated DTO, an enum member, a number checked
        by the caller against the field's bounds. The result equals the validated model (same
        fields in the same order, same fields-set). Anything from a user, or not checked, goes
        through the constructor. Costs ~0.8 µs where validation costs 2-5 µs (DESIGN.md §10).
        """
        model = _new(cls)
        _set_dict(model, {**(_TEMPLATES.get(cls) or _template(cls)), **values})
        _set_fields_set(model, {*values})
        _set_extra(model, None)
        _set_private(model, None)
        return model


def _template(cls: type[BaseModel]) -> dict[str, Any]:
    template = _TEMPLATES[cls] = {
        name: _REQUIRED if info.is_required() else info.default
        for name, info in cls.model_fields.items()
    }
    return template


_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}
"""Each trusted-built class's fields in declaration order, with defaults (or a marker)."""


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A tz-aware timestamp, normalised to UTC; naive datetimes are rejected."""

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
"""A preference or confidence in [0, 1]."""

PositiveMoney = Annotated[Decimal, Field(gt=0)]
NonNegativeMoney = Annotated[Decimal, Field(ge=0)]
Symbol = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]


_DECIMALS: dict[float, Decimal] = {}


def decimal_of(value: float) -> Decimal:
    """``Decimal(repr(value))``: a float as the Decimal it reads as (``0.1`` -> ``0.1``).

    Remembered for recent floats, because one order converts the same few (its decision
    close, its equity fraction) in several layers. Equal floats have equal reprs except 0.0
    and -0.0, which are one dict key, so zeros are never remembered; anything but a float
    (an int hashes like its float but reads differently) is converted as it is.
    """
    if type(value) is not float:
        return Decimal(repr(value))
    decimal = _DECIMALS.get(value)
    if decimal is None:
        decimal = Decimal(repr(value))
        if value:
            if len(_DECIMALS) >= 256:
                _DECIMALS.clear()
            _DECIMALS[value] = decimal
    return decimal


class KnownValid:
    """The strings already found valid for one constrained str type, for trusted builds.

    A str's validity depends on its value only, so each distinct value is validated once (by
    the type's own pydantic validator). Bounded: a stream of new values validates each anew.
    """

    __slots__ = ("_adapter", "_seen")

    def __init__(self, tp: Any) -> None:
        self._adapter: TypeAdapter[str] = TypeAdapter(tp)
        self._seen: set[str] = set()

    def __contains__(self, value: object) -> bool:
        if type(value) is not str:
            return False
        if value in self._seen:
            return True
        try:
            self._adapter.validate_python(value)
        except ValidationError:
            return False
        if len(self._seen) < 1024:
            self._seen.add(value)
        return True
