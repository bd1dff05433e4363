"""`simpletrader backtest --json` with warm-up: the summary covers the traded period, from the
blueprint's start, as the Python API reports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import simpletrader
from simpletrader.backtest.api import DEFAULT_BLUEPRINT

ROOT = Path(__file__).parents[2]
START = "2004-09-17"  # 20 daily bars of GOOG_1d come before it


def _blueprint(folder: Path, warmup: int) -> Path:
    raw = yaml.safe_load(DEFAULT_BLUEPRINT.read_text(encoding="utf-8"))
    raw["data"].update(start=START, end="2006-12-31", warmup_bars=warmup)
    path = folder / f"warm_{warmup}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _cli_json(blueprint: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "simpletrader", "backtest", str(blueprint), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


@pytest.fixture(scope="module")
def summaries(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("warm")
    return {warmup: _cli_json(_blueprint(folder, warmup)) for warmup in (20, 100)}


def test_json_summary_starts_at_the_blueprints_start_after_the_warm_up(
    summaries: dict[int, dict[str, Any]],
) -> None:
    for summary in summaries.values():
        assert summary["start"] == f"{START}T00:00:00+00:00"
        assert summary["warmup_bars"] == 20


def test_a_warm_up_longer_than_the_history_trades_from_the_start(
    summaries: dict[int, dict[str, Any]],
) -> None:
    asked, available = summaries[100], summaries[20]
    assert asked["run_hash"] == available["run_hash"]
    assert asked["trades"] == available["trades"] > 0
    assert asked["metrics"] == available["metrics"]


def test_json_summary_matches_the_python_api(
    summaries: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    result = simpletrader.backtest(_blueprint(tmp_path, 100))
    summary = summaries[100]
    assert summary["run_hash"] == result.run_hash
    assert summary["bars"] == result.n_bars == len(result.equity)
    assert summary["metrics"] == json.loads(json.dumps(result.metrics))


def test_validate_reports_the_period_the_backtest_trades(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from simpletrader.cli import app

    blueprint = _blueprint(tmp_path, 100)
    checked = CliRunner().invoke(app, ["validate", str(blueprint), "--json"])
    assert checked.exit_code == 0, checked.stderr
    symbol = json.loads(checked.stdout)["symbols"]["GOOG"]
    summary = simpletrader.backtest(blueprint).summary()
    assert symbol["warmup_bars"] == summary["warmup_bars"] == 20
    assert symbol["bars"] == summary["bars"]
    assert symbol["start"] == summary["start"]
    text = CliRunner().invoke(app, ["validate", str(blueprint)], env={"COLUMNS": "200"})
    assert f"{summary['bars']} bars (after 20 warm-up), {START} .. 2006-12-29" in text.stdout
