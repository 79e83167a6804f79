"""The job table: a live view of a :class:`JobBook`, one page at a time.

It listens to the book's change notices (sent from the run's background thread about every
0.25 s with only the rows that changed) and keeps a light copy of each row. A refresh
re-renders the page only when a changed row is on it (or the order moved it), and the
counts and the fleet picture only when the counts changed, so with 10,000 rows a refresh
costs milliseconds and a page of HTML. Elapsed time and the ETA (``fleet.progress``, which
reads every row) are measured by a ticker once a second, not at each refresh; the ticker
also moves the picture's time axis while nothing else changes. It stops listening once
every row is final.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Final

import ipywidgets as widgets

from ..fleet import BookChange, JobBook
from ..fleet.progress import Clock, RunProgress, book_progress, utc_now
from ..fleet.records import FINAL_STATUSES, STATUSES
from ._rows import FILTERS, SORTS, Row, render_counts, render_page
from .picture import FleetPicture
from .styles import classed, esc, style_widget, wrap_row

PAGE_SIZE: Final = 50


class JobTable(widgets.VBox):  # type: ignore[misc]
    """Job book rows with status colours, counts per status, elapsed time and ETA, the fleet
    picture, sorting and filters.

    ``attach(book)`` starts listening (the constructor does when given a book); the table
    stops by itself once every row is final. ``wait()`` blocks until then. ``clock`` gives
    the time for elapsed/ETA; ``tick_every`` (seconds, ``None``: no ticker thread) is how
    often elapsed, ETA and the picture's time axis move while no row changes.
    """

    def __init__(
        self,
        book: JobBook | None = None,
        *,
        page_size: int = PAGE_SIZE,
        picture_every: float = 1.0,
        clock: Clock = utc_now,
        tick_every: float | None = 1.0,
    ) -> None:
        self.page_size = page_size
        self.picture_every = picture_every
        self.clock = clock
        self.tick_every = tick_every
        self.book: JobBook | None = None
        self.picture = FleetPicture()
        self.progress: RunProgress | None = None
        self._measured_at = time.monotonic()
        self.refreshes = 0
        self.error: BaseException | None = None
        self._lock = threading.RLock()
        self._rows: dict[str, Row] = {}
        self._counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        self._order: list[str] | None = None
        self._page = 0
        self._shown: tuple[str, ...] = ()
        self._shown_set: frozenset[str] = frozenset()
        self._drawn_at = 0.0
        self._unsubscribe: Callable[[], None] | None = None
        self._finished = threading.Event()
        self._ticker: threading.Thread | None = None
        self._finished_listeners: list[Callable[[], object]] = []

        self.counts = classed(widgets.HTML(), "ecs-counts")
        self.progress_view = classed(widgets.HTML(), "ecs-progress")
        self.status_filter = classed(
            widgets.Dropdown(options=list(FILTERS), value="all", description="show"),
            "ecs-job-filter",
        )
        self.search = classed(
            widgets.Text(description="search", placeholder="name, id, job, error, reason"),
            "ecs-job-search",
        )
        self.sort = classed(
            widgets.Dropdown(options=list(SORTS), value="added", description="sort by"),
            "ecs-job-sort",
        )
        self.descending = classed(widgets.Checkbox(description="descending"), "ecs-job-desc")
        self.prev_button = classed(widgets.Button(description="◀"), "ecs-job-prev")
        self.next_button = classed(widgets.Button(description="▶"), "ecs-job-next")
        for b in (self.prev_button, self.next_button):
            b.layout.width = "3em"
        self.page_label = classed(widgets.HTML(), "ecs-job-page")
        self.state = classed(widgets.HTML(), "ecs-job-state")
        self.table = classed(widgets.HTML(), "ecs-job-table")
        # Wide rows scroll sideways inside their own box, never out of the page.
        self.table.layout = widgets.Layout(width="100%", overflow="auto")
        super().__init__(
            [
                style_widget(),
                wrap_row([self.counts, self.state]),
                self.progress_view,
                self.picture,
                wrap_row([self.status_filter, self.search]),
                wrap_row(
                    [
                        self.sort,
                        self.descending,
                        self.prev_button,
                        self.next_button,
                        self.page_label,
                    ]
                ),
                self.table,
            ]
        )
        self.layout.width = "100%"
        self.add_class("ecs-jobs")
        for control in (self.status_filter, self.search, self.sort, self.descending):
            control.observe(lambda _: self._reorder(), "value")
        self.prev_button.on_click(lambda _: self.show_page(self._page - 1))
        self.next_button.on_click(lambda _: self.show_page(self._page + 1))
        if book is not None:
            self.attach(book)
        else:
            self._render(page=True, counts=True)

    # -- code API --------------------------------------------------------------------------

    def attach(self, book: JobBook) -> None:
        """Show ``book`` and follow its changes until every row is final."""
        self.detach()
        with self._lock:
            self.book = book
            self._finished.clear()
            self._unsubscribe = book.subscribe(self._on_change)
            self.picture.clear()
            self._drawn_at = 0.0
            self._page = 0
            self._shown = ()
            self._load(book)
            self._measure()
            self._sample()
            self._render(page=True, counts=True)
            self._stop_if_finished()
            self._start_ticker()

    def detach(self) -> None:
        """Stop following the book (the table keeps what it shows)."""
        with self._lock:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

    def apply(self, keys: Iterable[str]) -> None:
        """Take in the rows ``keys`` of the book (what a change notice does)."""
        with self._lock:
            if self.book is None:
                return
            self.refreshes += 1
            keys = list(keys)
            if any(key not in self._rows for key in keys):
                # New rows (a run's plan, a resume): reload to keep the book's order.
                self._load(self.book)
                counts_changed = page_touched = True
            else:
                counts_changed = page_touched = False
                for key in keys:
                    old = self._rows[key]
                    new = Row.of(self.book.get(key), old.position)
                    counts_changed = counts_changed or old.status != new.status
                    if self._moves(old, new):
                        self._order = None
                    self._put(new, old)
                    page_touched = page_touched or key in self._shown_set
            if counts_changed:
                self._sample()
            self._render(page=page_touched, counts=counts_changed)
            self._stop_if_finished()

    def on_finished(self, listener: Callable[[], object]) -> None:
        """Call ``listener()`` each time a followed book has become all final."""
        self._finished_listeners.append(listener)

    @property
    def refreshing(self) -> bool:
        """True while the table follows its book."""
        return self._unsubscribe is not None

    @property
    def finished(self) -> bool:
        """True once every row of a non-empty book is final."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every row is final; False on timeout."""
        return self._finished.wait(timeout)

    def status_counts(self) -> dict[str, int]:
        """Rows per status, as shown."""
        with self._lock:
            return {k: v for k, v in self._counts.items() if v}

    def visible_keys(self) -> tuple[str, ...]:
        """The book keys of the rows on the page, top to bottom."""
        return self._shown

    @property
    def page(self) -> int:
        """The page on screen (0-based)."""
        return self._page

    def show_page(self, page: int) -> None:
        """Go to ``page`` (clamped)."""
        with self._lock:
            self._page = page
            self._render(page=True, counts=False)

    # -- internals ---------------------------------------------------------------------------

    def _on_change(self, change: BookChange) -> None:
        try:
            self.apply(change.keys)
        except Exception as exc:  # never break the run's thread
            self.error = exc
            self.state.value = f'<span class="ecs-err">display error: {esc(exc)}</span>'

    def _load(self, book: JobBook) -> None:
        self._rows = {}
        self._counts = dict.fromkeys(STATUSES, 0)
        self._order = None
        for record in book.records():
            self._put(Row.of(record, len(self._rows)))

    def _put(self, new: Row, old: Row | None = None) -> None:
        if old is not None:
            self._counts[old.status] -= 1
        self._counts[new.status] = self._counts.get(new.status, 0) + 1
        self._rows[new.key] = new

    def _moves(self, old: Row, new: Row) -> bool:
        keep = FILTERS[self.status_filter.value]
        sort = SORTS[self.sort.value]
        if keep(old) != keep(new) or self._found(old) != self._found(new):
            return True
        return sort is not None and sort(old) != sort(new)

    def _found(self, row: Row) -> bool:
        needle = self.search.value.strip().lower()
        return not needle or needle in row.haystack

    def _ordered(self) -> list[str]:
        if self._order is None:
            keep = FILTERS[self.status_filter.value]
            needle = self.search.value.strip().lower()
            rows = [
                r for r in self._rows.values() if keep(r) and (not needle or needle in r.haystack)
            ]
            sort = SORTS[self.sort.value]
            if sort is not None:
                present = [r for r in rows if sort(r) is not None]
                present.sort(key=sort, reverse=self.descending.value)
                rows = present + [r for r in rows if sort(r) is None]
            elif self.descending.value:
                rows.reverse()
            self._order = [r.key for r in rows]
        return self._order

    def _reorder(self) -> None:
        with self._lock:
            self._order = None
            self._page = 0
            self._render(page=True, counts=False)

    def _render(self, *, page: bool, counts: bool) -> None:
        order = self._ordered()
        pages = max(1, -(-len(order) // self.page_size))
        self._page = min(max(0, self._page), pages - 1)
        start = self._page * self.page_size
        shown = tuple(order[start : start + self.page_size])
        if page or shown != self._shown:
            self._shown = shown
            self._shown_set = frozenset(shown)
            self.table.value = render_page([self._rows[k] for k in shown], start)
            end = start + len(shown)
            self.page_label.value = esc(
                f"rows {start + 1 if shown else 0:,}–{end:,} of {len(order):,} "
                f"(page {self._page + 1:,} of {pages:,})"
            )
            self.prev_button.disabled = self._page == 0
            self.next_button.disabled = self._page >= pages - 1
        if counts:
            self.counts.value = render_counts(self._counts)
            self._draw_picture()

    def tick(self) -> None:
        """Refresh elapsed time, ETA and the picture's time axis (the ticker calls this)."""
        with self._lock:
            if self.book is None:
                return
            self._measure()
            self._draw_picture(force=True)

    def _measure(self) -> RunProgress | None:
        """Elapsed time and ETA from every row (O(rows): at attach, each tick and the end)."""
        if self.book is None:
            return None
        self.progress = book_progress(self.book, self.clock)
        self._measured_at = time.monotonic()
        self.progress_view.value = esc(self.progress.describe())
        return self.progress

    def mark(self, label: str) -> None:
        """Mark the fleet picture now (a wave starting, for example)."""
        self.picture.mark(self._elapsed(), label)

    def _elapsed(self) -> float:
        """Seconds since the first submission, now: the last measure plus the time since."""
        if self.progress is None:
            return 0.0
        return self.progress.elapsed + (time.monotonic() - self._measured_at)

    def _sample(self) -> None:
        self.picture.add(self._elapsed(), self._counts)

    def _draw_picture(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn_at >= self.picture_every:
            self._drawn_at = now
            self.picture.draw(self._elapsed())

    def _start_ticker(self) -> None:
        if self.tick_every is None or not self.refreshing:
            return
        if self._ticker is not None and self._ticker.is_alive():
            return
        every = self.tick_every

        def run() -> None:
            while not self._finished.wait(every) and self.refreshing:
                try:
                    self.tick()
                except Exception as exc:  # never die silently
                    self.error = exc
                    return

        self._ticker = threading.Thread(target=run, name="ecs-job-table-ticker", daemon=True)
        self._ticker.start()

    def _stop_if_finished(self) -> None:
        total = len(self._rows)
        unfinished = sum(v for k, v in self._counts.items() if k not in FINAL_STATUSES)
        if total and not unfinished:
            self.detach()
            self._measure()
            self._draw_picture(force=True)
            self.state.value = f'<span class="ecs-info">finished: {total:,} rows, all final</span>'
            for listener in list(self._finished_listeners):
                listener()
            self._finished.set()
        elif self.refreshing:
            self.state.value = f'<span class="ecs-info">live: {unfinished:,} unfinished</span>'

    def __repr__(self) -> str:
        return f"JobTable(rows={len(self._rows)}, refreshing={self.refreshing})"
