"""`simpletrader backtest` as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simpletrader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_default_backtest_prints_json_summary() -> None:
    result = run_cli("backtest", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["bars"] == 2148
    assert summary["trades"] > 10
    assert summary["final_equity"] > 0
    assert len(summary["run_hash"]) == 32


def test_example_path_and_default_give_the_same_run() -> None:
    default = json.loads(run_cli("backtest", "--json").stdout)
    explicit = json.loads(run_cli("backtest", "examples/sma_cross_goog.yaml", "--json").stdout)
    assert default["run_hash"] == explicit["run_hash"]


def test_data_override_with_a_csv_file(tmp_path: Path) -> None:
    import gzip

    from simpletrader.data.samples import sample_path

    csv = tmp_path / "goog.csv"
    csv.write_bytes(gzip.decompress(sample_path("GOOG_1d").read_bytes()))
    via_file = json.loads(run_cli("backtest", "--data", str(csv), "--json").stdout)
    default = json.loads(run_cli("backtest", "--json").stdout)
    assert via_file["final_equity"] == default["final_equity"]


def test_quiet_prints_nothing() -> None:
    result = run_cli("backtest", "--quiet")
    assert result.returncode == 0
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backtest", "missing.yaml"), "blueprint file not found: missing.yaml"),
        (("backtest", "--data", "nope.csv"), "data file not found: nope.csv"),
    ],
)
def test_errors_print_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_blueprint_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ndata:\n  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\n"
        "workforce:\n  strategy_planner:\n    plugin: signal_to_directive\n"
        "account:\n  starting_cash: -5\n"
    )
    result = run_cli("backtest", str(bad))
    assert result.returncode == 2
    assert f"{bad}:10: account.starting_cash: Input should be greater than 0" in result.stderr


def test_unknown_plugin_lists_the_registered_ones(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ndata:\n  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\n"
        "workforce:\n  strategy_planner:\n    plugin: nope\n"
    )
    result = run_cli("backtest", str(bad))
    assert result.returncode == 2
    assert "unknown strategy_planner plugin 'nope'; registered: signal_to_directive" in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = run_cli("backtest", "missing.yaml", "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
