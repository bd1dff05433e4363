"""Market data: loading and validating bars, instruments, bundled samples, alignment, resampling.

A bar's timestamp is its open time, in UTC (DESIGN.md §2); ``load_bars`` is the boundary where
outside data is checked, and everything downstream trusts ``Bars``.
"""

from __future__ import annotations

from simpletrader.data.alignment import align
from simpletrader.data.bars import Bars
from simpletrader.data.instruments import Instrument, default_instrument
from simpletrader.data.loader import load_bars
from simpletrader.data.resampling import resample
from simpletrader.data.samples import SAMPLE_NAMES, SampleInfo, sample_info, sample_path

__all__ = [
    "SAMPLE_NAMES",
    "Bars",
    "Instrument",
    "SampleInfo",
    "align",
    "default_instrument",
    "load_bars",
    "resample",
    "sample_info",
    "sample_path",
]
