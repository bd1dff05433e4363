"""Running a Python script in a child process from the repository root (crash tests kill it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c script args...`` in the repository root, output captured, never raising."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
