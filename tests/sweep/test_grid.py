"""Parsing --param values and spanning the grid."""

from __future__ import annotations

import pytest

from simpletrader.core.errors import ConfigError
from simpletrader.sweep.grid import (
    ParamAxis,
    axes_from,
    grid_points,
    grid_size,
    parse_param,
    parse_values,
)


def test_values_are_read_as_yaml_scalars() -> None:
    assert parse_values("10,0.5,true,INDEPENDENT,null") == (10, 0.5, True, "INDEPENDENT", None)


def test_exponent_without_dot_is_a_number_and_dates_stay_text() -> None:
    assert parse_values("1e-3,2010-01-31") == (0.001, "2010-01-31")


def test_integer_range_includes_its_stop() -> None:
    assert parse_values("5:20:5") == (5, 10, 15, 20)
    assert parse_values("3:1:-1") == (3, 2, 1)
    assert parse_values("1:3") == (1, 2, 3)


def test_float_range_has_no_rounding_drift() -> None:
    assert parse_values("0.1:0.5:0.1") == (0.1, 0.2, 0.3, 0.4, 0.5)


def test_ranges_and_values_combine_without_duplicates() -> None:
    assert parse_values("5,5:15:5,40") == (5, 10, 15, 40)


@pytest.mark.parametrize("text", ["5:1:1", "1:5:0", "1:5:-1"])
def test_range_that_never_reaches_its_stop_is_rejected(text: str) -> None:
    with pytest.raises(ConfigError, match="never reaches its stop"):
        parse_values(text)


def test_huge_range_is_rejected_as_a_likely_typo() -> None:
    with pytest.raises(ConfigError, match="use a larger step"):
        parse_values("0:1:0.000001")


def test_param_splits_path_and_values() -> None:
    axis = parse_param("execution.costs.fee_bps=0,2.5")
    assert axis == ParamAxis("execution.costs.fee_bps", (0, 2.5))


@pytest.mark.parametrize("text", ["period", "=1,2", "a.b=", "a.b= "])
def test_malformed_param_names_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match=r"expected PATH=V1,V2"):
        parse_param(text)


def test_api_params_take_lists_text_and_single_values() -> None:
    axes = axes_from({"a": [1, 2], "b": "3:5", "c": "x", "d": 7, "e": range(2)})
    assert [a.values for a in axes] == [(1, 2), (3, 4, 5), ("x",), (7,), (0, 1)]


def test_api_params_reject_an_empty_axis() -> None:
    with pytest.raises(ConfigError, match="'a' has no values"):
        axes_from({"a": []})


def test_grid_varies_the_last_axis_fastest() -> None:
    axes = [ParamAxis("a", (1, 2)), ParamAxis("b", ("x", "y", "z"))]
    points = grid_points(axes)
    assert grid_size(axes) == 6
    assert points[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]


def test_no_axes_is_one_run_of_the_blueprint_as_is() -> None:
    assert grid_points([]) == [{}]


def test_random_sample_is_distinct_seeded_and_in_grid_order() -> None:
    axes = [ParamAxis("a", tuple(range(10))), ParamAxis("b", tuple(range(10)))]
    sample = grid_points(axes, sample=7, seed=3)
    full = grid_points(axes)
    assert len(sample) == 7
    assert sample == grid_points(axes, sample=7, seed=3)
    assert sample != grid_points(axes, sample=7, seed=4)
    positions = [full.index(p) for p in sample]
    assert positions == sorted(set(positions))


def test_random_sample_larger_than_the_grid_runs_the_whole_grid() -> None:
    axes = [ParamAxis("a", (1, 2))]
    assert grid_points(axes, sample=10, seed=0) == grid_points(axes)


def test_random_sample_of_a_huge_grid_does_not_build_it() -> None:
    axes = [ParamAxis(f"p{i}", tuple(range(100))) for i in range(6)]  # 10^12 points
    sample = grid_points(axes, sample=3, seed=1)
    assert len(sample) == 3
    assert all(set(point) == {a.path for a in axes} for point in sample)
