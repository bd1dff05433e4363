"""The HTML report opened in headless Chromium (Debian's, installed by .ci/run): no console
errors, and every chart drawn.

The page is instrumented, not changed: a script put first in <head> counts console errors and
warnings and uncaught exceptions, and after the load writes the count and the number of drawn
plotly charts (``.js-plotly-plot .main-svg``) as attributes of <body>, which ``--dump-dom``
prints. A control page with a deliberate error proves the instrument works.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import simpletrader

CHROMIUM = Path("/usr/bin/chromium")

HOOK = """<script>(function () {
  var count = 0;
  function seen(kind, args) {
    count += 1;
    console.log("REPORT_CONSOLE_" + kind + ": " + Array.prototype.join.call(args, " "));
  }
  var error = console.error, warn = console.warn;
  console.error = function () { seen("ERROR", arguments); error.apply(console, arguments); };
  console.warn = function () { seen("WARN", arguments); warn.apply(console, arguments); };
  window.addEventListener("error", function (e) { seen("UNCAUGHT", [e.message]); });
  window.addEventListener("unhandledrejection", function (e) { seen("REJECTION", [e.reason]); });
  window.addEventListener("load", function () {
    setTimeout(function () {
      document.body.setAttribute("data-console-errors", String(count));
      document.body.setAttribute(
        "data-charts", String(document.querySelectorAll(".js-plotly-plot").length));
      document.body.setAttribute(
        "data-drawn", String(document.querySelectorAll(".js-plotly-plot .main-svg").length));
    }, 0);
  });
})();</script>"""


def open_in_chromium(page: Path, profile: Path) -> tuple[str, str]:
    """The page's DOM after load, and Chromium's log (console lines included)."""
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def instrumented(document: str) -> str:
    return document.replace("<head>", "<head>" + HOOK, 1)


def body_attribute(dom: str, name: str) -> int:
    match = re.search(rf'<body[^>]*\b{name}="(\d+)"', dom)
    assert match is not None, f"{name} not set: the page did not finish loading"
    return int(match.group(1))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    path = simpletrader.backtest().report(folder / "report.html")
    page = folder / "instrumented.html"
    page.write_text(instrumented(path.read_text(encoding="utf-8")), encoding="utf-8")
    return page


def test_report_renders_every_chart_without_console_errors(report: Path, tmp_path: Path) -> None:
    dom, log = open_in_chromium(report, tmp_path / "profile")
    assert body_attribute(dom, "data-console-errors") == 0, re.findall(r"REPORT_CONSOLE_.*", log)
    assert "Uncaught" not in log
    assert body_attribute(dom, "data-charts") == 2  # price (one symbol) and equity/drawdown
    assert body_attribute(dom, "data-drawn") >= 4
    assert 'class="metrics"' in dom
    assert "Sharpe ratio" in dom


def test_the_instrument_catches_a_console_error(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text(
        instrumented(
            "<html><head></head><body><script>console.error('boom'); missing();</script>"
            "</body></html>"
        )
    )
    dom, log = open_in_chromium(page, tmp_path / "profile")
    assert body_attribute(dom, "data-console-errors") == 2
    assert "REPORT_CONSOLE_ERROR: boom" in log
    assert body_attribute(dom, "data-charts") == 0
