"""`simpletrader validate` and `simpletrader plugins` as a user runs them.

The two everyday calls run in subprocesses; the error matrix runs the same Typer app in process
(argv to exit code) to keep the suite fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simpletrader.cli import app

ROOT = Path(__file__).parents[2]
EXAMPLE = str(ROOT / "examples" / "sma_cross_goog.yaml")

BLUEPRINT_HEAD = (
    "name: bad\ndata:\n  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\nworkforce:\n"
    "  strategy_planner:\n    plugin: signal_to_directive\n"
)
BAD = {
    "overlap": BLUEPRINT_HEAD
    + "  entry_planner:\n    - {plugin: market_entry, confidence: [0, 0.6]}\n"
    "    - {plugin: market_entry, name: b, confidence: [0.5, 1]}\n",
    "bad-param": BLUEPRINT_HEAD
    + "  size_planner:\n    - {plugin: equity_fraction, params: {fraction: 2}}\n",
    "bad-source": BLUEPRINT_HEAD.replace("GOOG_1d", "nowhere.csv"),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "simpletrader", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        for name, args in {"validate": ("validate", EXAMPLE), "plugins": ("plugins",)}.items()
    }
    done = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return done


def test_valid_blueprint_reports_its_data_and_plugins(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    run = runs["validate"]
    assert run.returncode == 0, run.stderr
    assert "blueprint sma_cross_goog is valid" in run.stdout
    assert "GOOG_1d: 2,148 bars, 2004-08-19 .. 2013-03-01" in run.stdout
    assert "fast (sma), slow (sma)" in run.stdout


def test_validate_json_lists_symbols_and_plugins() -> None:
    result = CliRunner().invoke(app, ["validate", EXAMPLE, "--json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert document["symbols"]["GOOG"]["bars"] == 2148
    assert document["plugins"]["signal_detector"] == ["ma_crossover"]
    assert document["policy"] == "INDEPENDENT, no timeout"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate", "missing.yaml"), "blueprint file not found: missing.yaml"),
        (("validate", "{dir}/overlap.yaml"), "workforce.entry_planner: confidence ranges overlap"),
        (("validate", "{dir}/bad-param.yaml"), "fraction"),
        (("validate", "{dir}/bad-source.yaml"), "data file not found: nowhere.csv"),
        (("validate", EXAMPLE, "--start", "someday"), "'someday' is not an ISO date"),
        (("plugins", "nope"), "unknown role 'nope'; roles: context_worker"),
    ],
)
def test_invalid_input_prints_one_line_and_exits_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    for name, text in BAD.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    result = CliRunner().invoke(app, [a.format(dir=tmp_path) for a in args])
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [("validate", "missing.yaml"), ("plugins", "nope")])
def test_debug_shows_the_traceback(args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*args, "--debug"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")


def test_plugins_lists_every_role_with_params(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    run = runs["plugins"]
    assert run.returncode == 0, run.stderr
    for role in ("context_worker", "signal_detector", "strategy_planner", "execution_planner"):
        assert role in run.stdout
    assert "ma_crossover" in run.stdout
    assert "period: int (required)" in run.stdout
    assert "FieldInfo" not in run.stdout


def test_plugins_json_and_role_filter() -> None:
    listed = json.loads(CliRunner().invoke(app, ["plugins", "--json"]).stdout)
    sma = next(p for p in listed if p["role"] == "context_worker" and p["name"] == "sma")
    period = next(p for p in sma["params"] if p["name"] == "period")
    assert period["required"] is True
    only = CliRunner().invoke(app, ["plugins", "exit_planner"]).stdout
    assert "no_exit" in only
    assert "ma_crossover" not in only
