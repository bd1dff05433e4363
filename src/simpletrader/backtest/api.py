"""The Python API: ``simpletrader.backtest(blueprint, **overrides) -> Result``.

The same run as ``simpletrader backtest`` on the command line, for notebooks and scripts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simpletrader.backtest.engine import Progress, run_backtest
from simpletrader.backtest.result import Result
from simpletrader.config.blueprint import Blueprint
from simpletrader.config.loader import format_validation_error, load_blueprint, load_blueprint_text
from simpletrader.core.errors import ConfigError

DEFAULT_BLUEPRINT = Path(__file__).resolve().parent.parent / "examples" / "sma_cross_goog.yaml"
"""The bundled example: an SMA 10/30 cross on GOOG daily bars (``examples/sma_cross_goog.yaml``)."""

BlueprintLike = Blueprint | Mapping[str, Any] | str | Path | None


def resolve_blueprint(blueprint: BlueprintLike) -> tuple[Blueprint, Path | None]:
    """A validated blueprint and the folder its relative data paths are read from.

    ``blueprint`` is a path (str or Path) to a YAML file, YAML text (a str with a line break),
    a mapping shaped like the YAML, a ``Blueprint``, or None for the bundled example. Relative
    data paths are resolved against the file's folder (also for a ``Blueprint`` loaded from
    one), else against the working directory.
    """
    if blueprint is None:
        blueprint = DEFAULT_BLUEPRINT
    if isinstance(blueprint, Blueprint):
        # A blueprint loaded from a file remembers it: its data paths are relative to it.
        source = blueprint.source_map
        found = Path(source.file) if source is not None else None
        return blueprint, found.resolve().parent if found is not None and found.is_file() else None
    if isinstance(blueprint, Mapping):
        try:
            return Blueprint.model_validate(dict(blueprint)), None
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, "<blueprint dict>")) from None
    if isinstance(blueprint, str) and "\n" in blueprint:
        return load_blueprint_text(blueprint, "<blueprint text>")[0], None
    path = Path(blueprint).expanduser()
    return load_blueprint(path), path.resolve().parent


def _with_fields(blueprint: Blueprint, fields: Mapping[str, Any]) -> Blueprint:
    """``blueprint`` with dotted fields replaced (``"execution.costs.fee_bps": 5``); a key may
    use ``__`` for the dots (``execution__costs__fee_bps=5``)."""
    from simpletrader.sweep.overrides import apply_overrides

    return apply_overrides(blueprint, {k.replace("__", "."): v for k, v in fields.items()})


def backtest(
    blueprint: BlueprintLike = None,
    /,
    *,
    data: str | Path | Sequence[str | Path] | None = None,
    start: str | None = None,
    end: str | None = None,
    seed: int | None = None,
    cash: float | int | str | Decimal | None = None,
    progress: Progress | None = None,
    store: str | Path | None = None,
    keep_journal: bool = True,
    **fields: Any,
) -> Result:
    """Run one backtest and return its :class:`~simpletrader.backtest.result.Result`.

    ``blueprint``: a YAML path, YAML text, a dict, a ``Blueprint``, or None for the bundled
    example. ``data``: a data file or bundled sample name per symbol, replacing the blueprint's
    sources. ``start``/``end``: ISO dates or times bounding the bars, both inclusive (an
    ``end`` date keeps that whole day). ``seed``: the run's seed (default: the blueprint's).
    ``cash``: the starting cash. ``progress``: called as
    ``progress(done_bars, total_bars)`` about a hundred times. ``store``: a SQLite file
    (created if absent) the run is recorded in as it goes (see docs/journal.md).
    ``keep_journal=False``: keep only the journal's hash in memory, when nothing will read its
    entries (``result.run.journal``) back; a store still has them all. Any other
    keyword is a dotted blueprint field, with ``__`` for the dots:
    ``execution__costs__fee_bps=5`` or, unpacked,
    ``**{"workforce.context_worker.fast.params.period": 20}``.

    Identical arguments give an identical ``run_hash``, in any process. Errors are
    ``simpletrader.core.errors.SimpleTraderError`` subclasses naming the file, field or value.
    """
    bp, base_dir = resolve_blueprint(blueprint)
    overrides = dict(fields)
    if cash is not None:
        overrides["account.starting_cash"] = Decimal(str(cash))
    if overrides:
        bp = _with_fields(bp, overrides)
    sources: tuple[str, ...] = ()
    if data is not None:
        items = [data] if isinstance(data, str | Path) else list(data)
        sources = tuple(str(item) for item in items)
    run = run_backtest(
        bp,
        base_dir=base_dir,
        data_overrides=sources,
        seed=seed,
        start=start,
        end=end,
        progress=progress,
        store=store,
        keep_journal=keep_journal,
    )
    return Result(run)
