"""Trusted builds: the platform's own records without re-validation, equal to validated ones."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from dto_examples import EXAMPLE_KWARGS, example

from simpletrader.dtos._base import FrozenModel, KnownValid, Symbol

sys.path.insert(0, str(Path(__file__).parents[1] / "plugins"))
from plugin_kit import assert_as_validated


@pytest.mark.parametrize("cls", list(EXAMPLE_KWARGS), ids=lambda c: c.__name__)
def test_a_trusted_build_of_validated_values_is_the_validated_model(
    cls: type[FrozenModel],
) -> None:
    validated = example(cls)
    values: dict[str, Any] = {name: getattr(validated, name) for name in validated.model_fields_set}
    trusted = cls.trusted(**values)
    assert type(trusted) is cls
    assert trusted == validated
    assert list(trusted.__dict__) == list(validated.__dict__)
    assert trusted.model_fields_set == validated.model_fields_set
    assert trusted.model_dump_json() == validated.model_dump_json()
    assert_as_validated(trusted)


def test_a_trusted_build_fills_the_defaults_it_is_not_given() -> None:
    validated = example(FrozenModel.__subclasses__()[0])  # any DTO
    cls = type(validated)
    required = {n: getattr(validated, n) for n, f in cls.model_fields.items() if f.is_required()}
    assert cls.trusted(**required) == cls(**required)


def test_known_valid_admits_exact_strs_its_type_validates_and_nothing_else() -> None:
    symbols = KnownValid(Symbol)

    class Text(str):
        pass

    assert "BTC/USD" in symbols
    assert "BTC/USD" in symbols  # the second time from its cache
    assert "no spaces" not in symbols
    assert "" not in symbols
    assert Text("BTC") not in symbols
    assert 5 not in symbols
