"""`simpletrader runs`: what a store holds, and clear errors for what is not a store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simpletrader", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """Two runs of the bundled example (seeds 42 and 7) in one store."""
    path = tmp_path_factory.mktemp("runs") / "runs.db"
    summaries = []
    for seed in ("42", "7"):
        result = cli("backtest", "--store", path, "--seed", seed, "--json")
        assert result.returncode == 0, result.stderr
        summaries.append(json.loads(result.stdout))
    return path, summaries


def test_runs_lists_every_run_with_its_figures(
    store: tuple[Path, list[dict[str, object]]],
) -> None:
    path, summaries = store
    result = cli("runs", path)
    assert result.returncode == 0, result.stderr
    for summary in summaries:
        assert str(summary["run_id"]) in result.stdout
    assert "sma_cross_goog" in result.stdout
    assert "2004-08-19 .. 2013-03-01" in result.stdout
    assert "FINISHED" in result.stdout
    assert f"{summaries[0]['final_equity']:,.2f}" in result.stdout


def test_runs_json_has_blueprint_seed_period_and_headline(
    store: tuple[Path, list[dict[str, object]]],
) -> None:
    path, summaries = store
    result = cli("runs", path, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["run_id"] for r in rows] == [s["run_id"] for s in summaries]
    assert [r["seed"] for r in rows] == [42, 7]
    for row, summary in zip(rows, summaries, strict=True):
        assert row["blueprint"] == "sma_cross_goog"
        assert row["status"] == "FINISHED"
        assert row["start"] == summary["start"]
        assert row["end"] == summary["end"]
        assert row["bars"] == summary["bars"]
        assert row["run_hash"] == summary["run_hash"]
        assert row["journal_entries"] == summary["journal_entries"]
        headline = row["headline"]
        assert headline["final_equity"] == summary["final_equity"]
        assert headline["trades"] == summary["trades"]
        assert headline["orders"] == summary["orders"]


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("just some notes\n"), "not a SQLite database"),
        (_foreign, "SQLite database of another application"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 20), "truncated"),
    ],
    ids=["text", "foreign", "truncated"],
)
def test_what_is_not_a_store_is_a_one_line_error(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "thing.db"
    assert callable(make)
    make(path)
    result = cli("runs", path)
    assert result.returncode == 2
    assert message in result.stderr
    assert str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_backtest_refuses_to_write_into_another_applications_database(tmp_path: Path) -> None:
    path = tmp_path / "music.db"
    _foreign(path)
    before = path.read_bytes()
    result = cli("backtest", "--store", path, "--quiet")
    assert result.returncode == 2
    assert "another application" in result.stderr
    assert path.read_bytes() == before


def test_a_damaged_run_record_is_a_one_line_error(
    store: tuple[Path, list[dict[str, object]]], tmp_path: Path
) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(store[0].read_bytes())
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE runs SET instruments = '{\"GOOG\": ' WHERE run = 1")
    conn.close()
    result = cli("runs", path)
    assert result.returncode == 2
    assert f"{path} is corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
