"""`HistoryWriter`: records go on a bounded queue; one background thread writes them in batches.

The request path only puts a record on the queue: it never waits for the database and never
sees its errors. When the queue is full (the database is far behind), new records are
dropped and counted, with a warning. A database error is logged and the batch is counted as
failed; writing goes on with the next batch. ``close()`` (also run at interpreter exit, and
without waiting when the writer is garbage-collected) writes everything queued first.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragged_graph.telemetry.records import RoutingRecord

if TYPE_CHECKING:
    from ragged_graph.telemetry.store import HistoryStore

__all__ = ["HistoryWriter", "WriterStats", "safe_url"]

logger = logging.getLogger("ragged_graph.telemetry.history")

_StoreFactory = Callable[[], "HistoryStore"]


@dataclass(frozen=True, kw_only=True)
class WriterStats:
    """What a writer has done so far."""

    queued: int
    """Records waiting to be written."""
    written: int
    """Records written."""
    failed: int
    """Records lost to database errors."""
    dropped: int
    """Records dropped because the queue was full (or the writer closed)."""


class _Flush:
    """A marker: the worker sets ``done`` once everything queued before it is written."""

    def __init__(self) -> None:
        self.done = threading.Event()


class _Stop(_Flush):
    """A marker: write everything queued before it, then end the thread."""


_Item = RoutingRecord | _Flush


class _Worker:
    """The queue, the thread and the counters; holds no reference to its writer, so that a
    writer nobody uses any more can be collected (its finalizer then stops the thread)."""

    def __init__(
        self,
        store_factory: _StoreFactory,
        *,
        queue_size: int,
        batch_size: int,
        flush_interval_s: float,
        exit_timeout: float,
    ) -> None:
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.exit_timeout = exit_timeout
        self.wake = threading.Event()
        self._store_factory = store_factory
        self.store: HistoryStore | None = None
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.closed = False
        self.written = 0
        self.failed = 0
        self.dropped = 0

    def ensure_started(self) -> None:
        if self.thread is not None:
            return
        with self.lock:
            if self.thread is None and not self.closed:
                thread = threading.Thread(target=self.run, name="ragged-graph-history", daemon=True)
                _live.add(self)
                thread.start()
                self.thread = thread

    def run(self) -> None:
        try:
            while True:
                first = self.queue.get()
                if not isinstance(first, _Flush) and self.flush_interval_s > 0:
                    # Let a batch gather: one transaction per record would cost the requests
                    # (through the GIL) far more than the records do. flush()/close() wake it.
                    self.wake.wait(self.flush_interval_s)
                self.wake.clear()
                if self.drain(first):
                    return
        finally:
            # Records that raced past a close are counted, not silently lost.
            left = 0
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Flush):
                    item.done.set()
                else:
                    left += 1
            with self.lock:
                self.dropped += left
            if self.store is not None:
                self.store.close()
            _live.discard(self)

    def drain(self, item: _Item) -> bool:
        """Write ``item`` and all queued now, in batches, answering markers in order;
        True once a stop marker was reached."""
        batch: list[RoutingRecord] = []
        while True:
            if isinstance(item, _Flush):
                self.write(batch)
                batch = []
                item.done.set()
                if isinstance(item, _Stop):
                    return True
            else:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    self.write(batch)
                    batch = []
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
        self.write(batch)
        return False

    def write(self, batch: list[RoutingRecord]) -> None:
        if not batch:
            return
        try:
            if self.store is None:
                self.store = self._store_factory()
            self.store.insert(batch)
        except Exception as exc:
            self.failed += len(batch)
            # The driver's own message: SQLAlchemy's adds the statement, long and unhelpful.
            cause = getattr(exc, "orig", None) or exc
            logger.error(
                "routing history: could not write %d record(s) to %s (%s: %s); "
                "requests are served as usual",
                len(batch),
                safe_url(self.store.url if self.store is not None else None),
                type(cause).__name__,
                str(cause).strip(),
            )
        else:
            self.written += len(batch)

    def send(self, marker: _Flush, deadline: float | None) -> bool:
        """Queue ``marker`` (waiting for room) and wait until the worker reaches it."""
        try:
            self.queue.put(marker, timeout=_left(deadline))
        except queue.Full:
            return False
        self.wake.set()
        return marker.done.wait(_left(deadline))

    def stop_soon(self) -> None:
        """Let the thread finish the queue and end, without waiting (finalizer)."""
        with self.lock:
            self.closed = True
            running = self.thread is not None
        if running:
            try:
                self.queue.put_nowait(_Stop())
            except queue.Full:
                threading.Thread(target=self.queue.put, args=(_Stop(),), daemon=True).start()
            self.wake.set()

    def close(self, timeout: float | None) -> bool:
        with self.lock:
            self.closed = True
            thread = self.thread
        if thread is None or not thread.is_alive():
            return True
        deadline = _deadline(timeout)
        if not self.send(_Stop(), deadline):
            return False
        thread.join(_left(deadline))
        return not thread.is_alive()


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


_live: set[_Worker] = set()
"""Workers whose thread runs; flushed at interpreter exit."""


@atexit.register
def _close_all() -> None:
    for worker in list(_live):
        worker.close(worker.exit_timeout)


class HistoryWriter:
    """Writes :class:`RoutingRecord` s to a :class:`HistoryStore` in the background.

    Args:
        url: the database's SQLAlchemy URL.
        queue_size: records that may wait; beyond that new ones are dropped and counted.
        batch_size: most records per transaction.
        flush_interval_s: how long the writer lets records gather before writing them.
        close_timeout_s: how long ``close()`` waits for the queue to be written by default.
        store: the store to write to (made from ``url`` in the writer thread by default).
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_interval_s: float = 0.5,
        close_timeout_s: float = 10.0,
        store: HistoryStore | None = None,
    ) -> None:
        self.url = url
        """Where the records go."""
        self.close_timeout_s = close_timeout_s
        """The default wait of :meth:`close`."""
        factory: _StoreFactory = (
            (lambda: store) if store is not None else (lambda: _make_store(url))
        )
        self._worker = _Worker(
            factory,
            queue_size=queue_size,
            batch_size=batch_size,
            flush_interval_s=flush_interval_s,
            exit_timeout=close_timeout_s,
        )
        self._finalizer = weakref.finalize(self, self._worker.stop_soon)
        self._finalizer.atexit = False  # the module's exit hook flushes, waiting

    def record(self, record: RoutingRecord) -> None:
        """Queue ``record`` for writing; never blocks and never raises."""
        worker = self._worker
        try:
            if worker.closed:
                self._drop("the writer is closed")
                return
            worker.ensure_started()
            worker.queue.put_nowait(record)
        except queue.Full:
            self._drop(f"the queue is full ({worker.queue.maxsize} records waiting)")
        except Exception:  # pragma: no cover - a bug must not fail the request
            logger.exception("routing history: could not queue a record")

    def _drop(self, why: str) -> None:
        worker = self._worker
        with worker.lock:
            worker.dropped += 1
            dropped = worker.dropped
        # The first drop, then every power of two: visible without flooding the log.
        if dropped & (dropped - 1) == 0:
            logger.warning(
                "routing history: dropped a record because %s; %d dropped so far",
                why,
                dropped,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued so far is written (or failed); False on timeout."""
        worker = self._worker
        if worker.thread is None or not worker.thread.is_alive():
            return worker.queue.empty()
        return worker.send(_Flush(), _deadline(timeout))

    def close(self, timeout: float | None = None) -> bool:
        """Write every queued record, then stop; later records are dropped. Idempotent.

        Returns False when ``timeout`` (default ``close_timeout_s``) ran out first.
        """
        self._finalizer.detach()
        return self._worker.close(self.close_timeout_s if timeout is None else timeout)

    @property
    def stats(self) -> WriterStats:
        """Counts of records queued, written, failed and dropped."""
        worker = self._worker
        return WriterStats(
            queued=worker.queue.qsize(),
            written=worker.written,
            failed=worker.failed,
            dropped=worker.dropped,
        )

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_store(url: str) -> HistoryStore:
    # SQLAlchemy loads here, in the writer thread, on the first record: importing the
    # package or routing without a model call does not pay for it.
    from ragged_graph.telemetry.store import HistoryStore

    return HistoryStore(url)


def safe_url(url: str | None) -> str:
    """``url`` without its password, for logs."""
    if url is None:
        return "the database"
    scheme, separator, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{location}"
