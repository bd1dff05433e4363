"""`simpletrader explain` as a user runs it: any id back to its bar, signal and fills."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simpletrader.ledger.store import Store

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
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store holding one run of the bundled example, recorded through the CLI."""
    path = tmp_path_factory.mktemp("explain") / "run.db"
    result = cli("backtest", "--store", path, "--json")
    assert result.returncode == 0, result.stderr
    return path, json.loads(result.stdout)["run_id"]


def ids(path: Path, kind: str) -> list[str]:
    with Store(path) as opened:
        (info,) = opened.runs()
        return [r.id for r in opened.entries(info.run_id, kinds=[kind])]


def nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    out = [tree]
    for child in tree["children"]:
        out.extend(nodes(child))
    return out


def path_to(tree: dict[str, Any], target: str) -> list[dict[str, Any]] | None:
    if tree["id"] == target:
        return [tree]
    for child in tree["children"]:
        found = path_to(child, target)
        if found is not None:
            return [tree, *found]
    return None


def test_an_order_reaches_its_bar_signal_directive_batch_and_fills(
    store: tuple[Path, str],
) -> None:
    path, run_id = store
    order_id = ids(path, "order_submitted")[2]
    result = cli("explain", path, order_id, "--json")
    assert result.returncode == 0, result.stderr
    explained = json.loads(result.stdout)
    assert (explained["id"], explained["kind"], explained["run_id"]) == (order_id, "order", run_id)
    (chain,) = explained["chains"]
    route = path_to(chain, order_id)
    assert route is not None
    assert [n["node"] for n in route] == ["bar", "directive", "batch", "command", "group", "order"]
    bar = chain
    assert set(bar["data"]["facts"]) == {"fast", "slow"}
    assert {"open", "high", "low", "close"} <= set(bar["data"]["market"]["GOOG"])
    assert [c["node"] for c in bar["children"]][:4] == ["facts", "origin", "signal", "directive"]
    directive = route[1]
    signal = next(c for c in bar["children"] if c["node"] == "signal")
    assert signal["id"] in directive["data"]["causality"]["signal_ids"]
    batch = route[2]
    assert batch["data"]["batch"]["directive_id"] == directive["id"]
    order = route[-1]
    assert order["target"] is True
    fills = [n for n in order["children"] if n["node"] == "fill"]
    assert fills
    assert all(f["data"]["order_id"] == order_id for f in fills)


def test_the_tree_is_printed_with_the_asked_id_marked(store: tuple[Path, str]) -> None:
    path, run_id = store
    order_id = ids(path, "order_submitted")[2]
    result = cli("explain", path, order_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert run_id in lines[0]
    assert lines[1].startswith("└── bar ")
    marked = [line for line in lines if "◀" in line]
    assert len(marked) == 1
    assert order_id in marked[0]
    for word in ("facts:", "signal SIG_", "directive STR_", "batch BAT_", "fill FIL_"):
        assert word in result.stdout


@pytest.mark.parametrize("kind", ["order_filled", "trade_plan_opened"])
def test_fills_plans_groups_and_flow_ids_are_explained_too(
    store: tuple[Path, str], kind: str
) -> None:
    path, _ = store
    entry_id = ids(path, kind)[-1]
    result = cli("explain", path, entry_id, "--json")
    assert result.returncode == 0, result.stderr
    explained = json.loads(result.stdout)
    targets = [n for c in explained["chains"] for n in nodes(c) if n["target"]]
    assert [n["id"] for n in targets] == [entry_id]


def test_an_unknown_id_suggests_the_nearest_ids_of_its_kind(store: tuple[Path, str]) -> None:
    path, _ = store
    order_id = ids(path, "order_submitted")[0]
    typo = order_id[:-2] + ("00" if order_id[-2:] != "00" else "11")
    result = cli("explain", path, typo)
    assert result.returncode == 2
    assert f"no order {typo}" in result.stderr
    assert "nearest order ids: " + order_id in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_id_held_by_several_runs_asks_for_a_run(store: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = store
    twice = tmp_path / "twice.db"
    shutil.copy(path, twice)
    again = cli("backtest", "--store", twice, "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)["run_id"]
    fill_id = ids(path, "order_filled")[0]
    result = cli("explain", twice, fill_id)
    assert result.returncode == 2
    assert f"{fill_id} is in 2 runs" in result.stderr
    assert run_id in result.stderr
    assert second in result.stderr
    assert "--run" in result.stderr
    chosen = cli("explain", twice, fill_id, "--run", second, "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["run_id"] == second
    unknown = cli("explain", twice, fill_id, "--run", "RUN_20000101_000000_00000000")
    assert unknown.returncode == 2
    assert "its runs: " in unknown.stderr


def test_a_malformed_id_is_a_one_line_error(store: tuple[Path, str]) -> None:
    result = cli("explain", store[0], "hello")
    assert result.returncode == 2
    assert "not an id explain knows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_explaining_from_a_file_that_is_not_a_store_fails_cleanly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not sqlite at all")
    result = cli("explain", bogus, "ORD_20200101_000000_00000000")
    assert result.returncode == 2
    assert "not a SQLite database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_explaining_an_order_whose_entry_is_damaged_fails_cleanly(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    path = tmp_path / "damaged.db"
    path.write_bytes(store[0].read_bytes())
    order_id = ids(path, "order_submitted")[0]
    conn = sqlite3.connect(path)
    with conn:  # garble a field name of the order's entry, as a damaged page would
        conn.execute(
            "UPDATE bars SET payloads = replace(payloads, ?, ?)",
            (f'"order_id":"{order_id}","client_order_id"', f'"order_id":"{order_id}","client_'),
        )
    conn.close()
    result = cli("explain", path, order_id)
    assert result.returncode == 2
    assert "(order_submitted) is corrupt and does not decode" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
