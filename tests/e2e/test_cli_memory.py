"""The CLI fixes glibc's mmap threshold for its own process, and only there."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

import simpletrader.cli as cli
from simpletrader.cli.memory import fix_mmap_threshold

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_glibc_takes_the_fixed_threshold() -> None:
    assert fix_mmap_threshold() is GLIBC


def test_a_threshold_the_user_set_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert fix_mmap_threshold() is False


def test_the_command_line_fixes_it_before_running(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "fix_mmap_threshold", lambda: calls.append("fixed") or True)
    monkeypatch.setattr(cli, "app", lambda: calls.append("ran"))
    cli.main()
    assert calls == ["fixed", "ran"]


def test_importing_the_library_leaves_the_allocator_alone() -> None:
    # A process that only imports simpletrader keeps glibc's own dynamic threshold: the module
    # that would change it is not even loaded.
    code = (
        "import sys, simpletrader, simpletrader.backtest.api; "
        "print('simpletrader.cli.memory' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
