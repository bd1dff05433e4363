"""Instructions one benchmark backtest costs, counted by valgrind (callgrind).

Wall time on a shared machine moves with whatever else runs; an instruction count does not
(about ±0.5% from run to run), so a change worth 1% shows up. The run is repeated in one
process, once and ``--runs`` times, and the difference is divided, so interpreter start and
imports drop out. Needs Debian's valgrind.

    python benchmarks/count_instructions.py --bars 10000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench_backtest import BENCH_DIR, ensure_csv

BLUEPRINT = BENCH_DIR / "sma_cross_bench.yaml"


def run(csv: Path, runs: int) -> None:
    """The child: ``runs`` backtests in this process, then the last run's hash."""
    from simpletrader.backtest import api

    result = None
    for _ in range(runs):
        result = api.backtest(str(BLUEPRINT), data=str(csv), keep_journal=False)
    assert result is not None
    print(result.run_hash)


def count(csv: Path, runs: int) -> tuple[int, str]:
    """(instructions, run hash) of a child process making ``runs`` backtests."""
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        str(runs),
        str(csv),
    ]
    # A fixed hash seed keeps dict and set layouts, and so the count, the same every time.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1)), done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs in the longer child (>= 2)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run(Path(args.child[1]), int(args.child[0]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.runs < 2:
        raise SystemExit("--runs must be at least 2")
    csv = ensure_csv(args.bars)
    one, run_hash = count(csv, 1)
    many, _ = count(csv, args.runs)
    per_run = (many - one) // (args.runs - 1)
    print(f"{args.bars:,} bars: {per_run:,} instructions per run (run_hash {run_hash})")


if __name__ == "__main__":
    main()
