"""Every DTO reloads unchanged from its Python and its JSON dump, timestamps in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dto_examples import EXAMPLE_KWARGS
from dto_strategies import DTO_STRATEGIES
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.dtos._base import FrozenModel

CLASSES = list(DTO_STRATEGIES)


def test_strategies_cover_every_dto_class() -> None:
    assert set(DTO_STRATEGIES) == set(EXAMPLE_KWARGS)


@pytest.mark.parametrize("cls", CLASSES, ids=[c.__name__ for c in CLASSES])
@given(data=st.data())
def test_dto_survives_python_and_json_round_trip(cls: type[FrozenModel], data: Any) -> None:
    original = data.draw(DTO_STRATEGIES[cls])
    assert type(original) is cls
    assert cls.model_validate(original.model_dump()) == original
    assert cls.model_validate_json(original.model_dump_json()) == original
    for value in original.__dict__.values():
        if isinstance(value, datetime):
            assert value.tzinfo is UTC
