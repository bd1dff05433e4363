"""The append-only journal: the run's source of truth.

On the hot path an entry is the event object itself, appended to a list. Events are serialised
in bulk (:mod:`simpletrader.journal.codec`) when a chunk fills up or, with a sink attached, at
the end of each bar that appended any; the serialised lines feed the running ``run_hash`` and
are kept as zlib-compressed chunks, so memory grows with activity, not bars. Full chunks are
hashed and compressed on a background thread (:mod:`simpletrader.journal.background`); reading
the hash or the lines waits for it. A sink (the SQLite store) receives each active bar's entries
as one :class:`JournalBar`, so it never commits part of a bar.
"""

from __future__ import annotations

import zlib
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future
from typing import Any, Protocol

from simpletrader.core.errors import JournalError
from simpletrader.journal import background, codec
from simpletrader.journal import events as ev

EVENT_TYPES = ev.EVENT_TYPES
FLOW_DTOS = codec.FLOW_DTOS


class JournalBar:
    """The entries one bar appended, handed to sinks by :meth:`Journal.end_bar`.

    ``events[k]`` has sequence number ``first_seq + k`` and payload ``payloads[k]`` (compact
    JSON bytes, see :mod:`simpletrader.journal.codec`).
    """

    __slots__ = ("bar", "events", "first_seq", "payloads")

    def __init__(
        self, bar: int, first_seq: int, events: list[ev.JournalEvent], payloads: list[bytes]
    ) -> None:
        self.bar = bar
        self.first_seq = first_seq
        self.events = events
        self.payloads = payloads

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.events) - 1


_MAX_JOBS = 4
"""Full chunks (~1 MB each) that may wait for the worker before ``end_bar`` waits too."""


def _digest(hasher: Any, chunks: list[bytes] | None, data: bytes, hashed: int) -> None:
    """The worker's part: hash the chunk (its first ``hashed`` bytes already are), keep it."""
    hasher.update(memoryview(data)[hashed:] if hashed else data)
    if chunks is not None:
        chunks.append(zlib.compress(data, 1))


Sink = Callable[[JournalBar], None]
Lines = Iterator[tuple[int, str, bytes]]


class DurableSink(Protocol):
    """A sink that keeps every entry it was given and can hand them back in order.

    With one attached the journal stops keeping its own compressed copy (it still hashes):
    :meth:`Journal.lines` reads the entries back from the sink instead.
    """

    def __call__(self, entries: JournalBar) -> None: ...

    def lines(self) -> Lines: ...


class Journal:
    """Append-only log of journal events with a running hash.

    Sequence numbers start at 1. ``end_bar(i)`` closes bar ``i``: it costs one comparison when
    the bar appended nothing. With ``keep_entries=False`` (and no durable sink) it keeps only
    the hash: reading the entries back raises :class:`JournalError`.
    """

    __slots__ = (
        "_bar_mark",
        "_buffer",
        "_buffered",
        "_chunk_size",
        "_chunks",
        "_hashed",
        "_hasher",
        "_jobs",
        "_keep",
        "_mark_bars",
        "_mark_seqs",
        "_moved",
        "_pending",
        "_reader",
        "_sinks",
    )

    def __init__(self, chunk_size: int = 4096, *, keep_entries: bool = True) -> None:
        # False: a run nobody will read back (a CLI summary, a sweep row) keeps only the hash,
        # which spares the compressed copy's memory and the time to compress it.
        self._keep = keep_entries
        self._chunk_size = chunk_size
        # Appended entries not serialised (or handed to the sinks) yet. The list is the journal's
        # for its whole life, so a caller may bind its ``append`` (see ``appender``); entries
        # are moved out of it, and ``_moved`` counts them: the last sequence number is
        # ``_moved + len(_pending)``.
        self._pending: list[ev.JournalEvent] = []
        self._moved = 0
        # Serialised lines not handed to the worker yet; the first ``_hashed`` are hashed.
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._hashed = 0
        self._chunks: list[bytes] = []
        self._hasher = codec.new_run_hasher()
        self._jobs: deque[Future[None]] = deque()
        self._bar_mark = 0
        # (bar, last seq) of every bar that appended entries: what a rebuild with bars needs.
        self._mark_bars = array("q")
        self._mark_seqs = array("q")
        self._sinks: list[Sink] = []
        self._reader: Callable[[], Lines] | None = None

    def __len__(self) -> int:
        return self._moved + len(self._pending)

    def append(self, event: ev.JournalEvent) -> int:
        """Append one event; return its sequence number (1-based)."""
        pending = self._pending
        pending.append(event)
        return self._moved + len(pending)

    @property
    def appender(self) -> Callable[[ev.JournalEvent], None]:
        """:meth:`append` without its return value, in one C call where ``append`` takes a
        Python one: for a caller that appends on every order and binds it once."""
        return self._pending.append

    def _take_pending(self) -> list[ev.JournalEvent]:
        """The pending entries, moved out of the (kept) pending list."""
        pending = self._pending
        events = pending.copy()
        pending.clear()
        self._moved += len(events)
        return events

    def add_sink(self, sink: Sink | DurableSink, *, durable: bool = False) -> None:
        """Receive every later bar's entries once that bar ends (one call per active bar).

        A ``durable`` sink (a :class:`DurableSink`, attached before the first entry) keeps the
        entries for the journal, which then keeps only their hash.
        """
        if len(self) != self._bar_mark:
            raise ValueError("add a sink between bars, not while a bar has unfinished entries")
        if durable:
            if len(self) or self._reader is not None:
                raise ValueError("a durable sink must be the first and only one, before any entry")
            reader = getattr(sink, "lines", None)
            if not callable(reader):
                raise TypeError(f"a durable sink needs a lines() method: {sink!r}")
            self._reader = reader
        self._sinks.append(sink)

    def end_bar(self, bar: int) -> None:
        """Close bar ``bar``: hand its entries to the sinks, serialise a full chunk."""
        seq = self._moved + len(self._pending)
        if seq == self._bar_mark:
            return
        if self._keep or self._reader is not None:  # only bar_events reads them, via lines()
            self._mark_bars.append(bar)
            self._mark_seqs.append(seq)
        if self._sinks:
            events = self._take_pending()
            first = seq - len(events) + 1
            payloads, blob = codec.payloads_and_lines(events)
            entries = JournalBar(bar, first, events, payloads)
            for sink in self._sinks:
                sink(entries)
            self._absorb(blob, len(events))
        elif len(self._pending) >= self._chunk_size:
            self._serialise_pending()
        self._bar_mark = seq

    def _serialise_pending(self) -> None:
        if self._pending:
            events = self._take_pending()
            self._absorb(codec.lines(events), len(events))

    def _absorb(self, blob: bytes, entries: int) -> None:
        """Buffer serialised lines; a full chunk goes to the worker to be hashed and kept."""
        self._buffer.append(blob)
        self._buffered += entries
        if self._buffered >= self._chunk_size:
            buffer, hashed = self._buffer, self._hashed
            self._buffer, self._buffered, self._hashed = [], 0, 0
            data = b"".join(buffer)
            done = sum(map(len, buffer[:hashed]))
            # A durable sink already keeps the entries: the journal only hashes them.
            chunks = self._chunks if self._reader is None and self._keep else None
            jobs = self._jobs
            jobs.append(background.submit(_digest, self._hasher, chunks, data, done))
            # Bound the chunks in flight (memory) and surface a failed job early.
            while jobs and (len(jobs) > _MAX_JOBS or jobs[0].done()):
                jobs[0].result()
                jobs.popleft()

    def _settle(self) -> None:
        """Wait for the worker (re-raising its error) and hash what it was not given."""
        jobs = self._jobs
        while jobs:
            jobs[0].result()  # a failed job stays first: every later read raises too
            jobs.popleft()
        if self._hashed < len(self._buffer):
            self._hasher.update(b"".join(self._buffer[self._hashed :]))
            self._hashed = len(self._buffer)

    def _compress(self) -> None:
        self._settle()
        if self._buffer:
            if self._reader is None and self._keep:
                self._chunks.append(zlib.compress(b"".join(self._buffer), 1))
            self._buffer, self._buffered, self._hashed = [], 0, 0

    @property
    def run_hash(self) -> str:
        """Hash over every entry so far; identical runs give identical hashes in any process."""
        if not self._sinks:
            self._serialise_pending()
            self._settle()
            return self._hasher.hexdigest()
        # The bar in progress still belongs to the sinks: hash a copy, keep the entries pending.
        self._settle()
        hasher = self._hasher.copy()
        hasher.update(codec.lines(self._pending))
        return hasher.hexdigest()

    def lines(self) -> Lines:
        """Every entry as ``(seq, kind, payload)``, in sequence order."""
        if not self._keep and self._reader is None:
            raise JournalError(
                "this run kept only its journal's hash (keep_journal=False); run it again with "
                "keep_journal=True, or with a store, to read its entries"
            )
        seq = 0
        if self._reader is not None:
            for seq, kind, payload in self._reader():  # what the durable sink committed
                yield seq, kind, payload
        if not self._sinks:
            self._serialise_pending()
        self._compress()
        for chunk in self._chunks:
            for raw in zlib.decompress(chunk).splitlines():
                name, _, body = raw.partition(b"\t")
                seq += 1
                yield seq, name.decode(), body
        if self._sinks:  # the bar in progress: not handed to the sinks yet
            for raw in codec.lines(self._pending).splitlines():
                name, _, body = raw.partition(b"\t")
                seq += 1
                yield seq, name.decode(), body

    def records(self, kinds: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every entry (or those of ``kinds``) as a JSON-ready dict, in sequence order.

        A record holds the event's fields plus ``seq``, ``kind`` and ``id``; a flow record holds
        ``at``, ``type`` (the DTO class) and ``dto`` (fields equal to their defaults left out).
        """
        for seq, kind, payload in self.lines():
            if kinds is None or kind in kinds:
                yield codec.record(seq, kind, payload)

    def events(self) -> Iterator[ev.JournalEvent]:
        """Every entry decoded back into its event object (for replay)."""
        for _, kind, payload in self.lines():
            yield codec.decode(kind, payload)

    def bar_events(self) -> Iterator[tuple[int, ev.JournalEvent]]:
        """Every entry as ``(bar, event)``: the bar is the one whose ``end_bar`` closed it.

        Entries appended after the last ``end_bar`` are given the last bar seen (or 0).
        """
        bars, seqs = self._mark_bars, self._mark_seqs
        k = 0
        last_bar = bars[-1] if bars else 0
        for seq, event in enumerate(self.events(), 1):
            while k < len(seqs) and seqs[k] < seq:
                k += 1
            yield (bars[k] if k < len(seqs) else last_bar), event
