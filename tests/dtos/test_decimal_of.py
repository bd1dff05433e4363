"""``decimal_of``: a float as the Decimal its repr reads as, remembered or not."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.dtos import _base, decimal_of


def _same(a: Decimal, b: Decimal) -> bool:
    """Equal and written alike (exponent and sign included), or both NaN."""
    return str(a) == str(b)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_reads_as_its_repr_the_first_time_and_again(value: float) -> None:
    expected = Decimal(repr(value))
    assert _same(decimal_of(value), expected)
    assert _same(decimal_of(value), expected)  # remembered (or, for a zero, converted again)


def test_zeros_keep_their_sign_whichever_came_first() -> None:
    for first, second in ((0.0, -0.0), (-0.0, 0.0)):
        assert str(decimal_of(first)) == repr(first)
        assert str(decimal_of(second)) == repr(second)


def test_a_non_float_equal_to_a_remembered_float_is_converted_as_it_is() -> None:
    assert str(decimal_of(3.0)) == "3.0"
    assert str(decimal_of(3)) == "3"  # type: ignore[arg-type]  # an int reads differently
    with pytest.raises(ArithmeticError):  # a NumPy float's repr is not a number: as before
        decimal_of(np.float64(3.0))  # type: ignore[arg-type]


def test_the_memory_stays_bounded() -> None:
    for k in range(1, 2000):
        assert str(decimal_of(k / 7)) == repr(k / 7)
    assert len(_base._DECIMALS) <= 256
