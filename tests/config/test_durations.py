"""Blueprint durations: checked for form at load, converted to seconds at bootstrap."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from simpletrader.config.durations import Duration, Latency, counts_bars, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("90m", 5_400),
        ("2h", 7_200),
        ("2d", 172_800),
        ("1w", 604_800),
        (" 2 d ", 172_800),
        ("15 min", 900),
        ("1 day", 86_400),
        ("3 hours", 10_800),
        ("45", 45),
        (45, 45),
    ],
)
def test_duration_forms_convert_to_seconds(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_bar_durations_need_the_bar_length() -> None:
    assert parse_duration("3 bars", bar_seconds=60) == 180
    assert parse_duration("1bar", bar_seconds=86_400) == 86_400
    with pytest.raises(ValueError, match="'3 bars' counts bars, but the bar length is unknown"):
        parse_duration("3 bars")


@pytest.mark.parametrize("text", ["two days", "1M", "1.5h", "-5s", "", "3 fortnights", "d2"])
def test_bad_duration_says_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not understood; use a whole number and a unit"):
        parse_duration(text)


@pytest.mark.parametrize("value", [0, "0s", -3])
def test_duration_must_be_positive(value: str | int) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        parse_duration(value)


def test_booleans_are_not_durations() -> None:
    with pytest.raises(ValueError, match="duration True is not understood"):
        parse_duration(True)


def test_counts_bars_tells_bar_durations_apart() -> None:
    assert counts_bars("3 bars")
    assert not counts_bars("3d")
    assert not counts_bars(60)


class _Durations(BaseModel):
    timeout: Duration | None = None
    latency: Latency = 0


def test_schema_keeps_the_written_form_for_bootstrap() -> None:
    model = _Durations.model_validate({"timeout": " 3 bars ", "latency": 2})
    assert model.timeout == "3 bars"
    assert model.latency == 2


def test_zero_latency_in_any_unit_is_stored_as_zero() -> None:
    assert _Durations.model_validate({"latency": "0s"}).latency == 0
    assert _Durations.model_validate({"latency": "0 bars"}).latency == 0


def test_schema_rejects_a_bad_duration_with_the_accepted_forms() -> None:
    with pytest.raises(ValidationError, match="duration 'soon' is not understood; use"):
        _Durations.model_validate({"timeout": "soon"})
    with pytest.raises(ValidationError, match="duration 0 must be > 0"):
        _Durations.model_validate({"timeout": 0})
    with pytest.raises(ValidationError, match="latency -1 must be >= 0"):
        _Durations.model_validate({"latency": -1})
