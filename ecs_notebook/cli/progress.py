"""Progress on stderr while the CLI waits: a live tqdm bar on a terminal, plain lines elsewhere.

On a terminal: a bar of finished servers (or jobs) with the counts per status, elapsed time
and an ETA, redrawn about once a second. When stderr is not a terminal (a log, CI): one
plain line whenever the counts change, and at least every 30 s while nothing changes.
Never on stdout, which holds data only.

:func:`follow_book` feeds a fleet run's :class:`JobBook` to a :class:`ProgressReporter`;
``job --wait`` calls :meth:`ProgressReporter.update` after each round of polls.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Final

from tqdm import tqdm

from ..fleet import BookChange, JobBook
from ..fleet.progress import RunProgress, book_progress, clock_text

#: Seconds between plain lines while nothing changes (stderr not a terminal).
QUIET_EVERY: Final = 30.0
#: Seconds between redraws of the live bar (a terminal).
BAR_EVERY: Final = 1.0
#: The reporter whose bar is on the terminal now, if any (see :func:`say`).
_live: ProgressReporter | None = None


def say(text: str) -> None:
    """Print a line on stderr: above the live bar when there is one, not glued to it."""
    reporter = _live
    if reporter is not None:
        reporter.write(text)
    else:
        print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def bar_hidden() -> Iterator[None]:
    """Take the live bar (if any) off the terminal while the operator is asked something."""
    reporter = _live
    if reporter is None:
        yield
    else:
        with reporter.hidden():
            yield


def counts_text(counts: Mapping[str, int]) -> str:
    """``"SUCCESS 3, RUNNING 2"`` (statuses with no rows left out)."""
    return ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)


class ProgressReporter:
    """Show how many of ``total`` are finished, with counts per status, elapsed and ETA.

    ``tty`` (default: ``stream.isatty()``) picks the live bar or the plain lines; ``every``
    is the longest silence between plain lines. :meth:`close` stops the ticker and ends the
    bar's line; use it as a context manager.
    """

    def __init__(
        self,
        total: int,
        *,
        what: str = "servers",
        stream: IO[str] | None = None,
        tty: bool | None = None,
        every: float = QUIET_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.what = what
        self.every = every
        self.clock = clock
        self.lines = 0
        self._lock = threading.Lock()
        self._started = clock()
        self._last_line_at = self._started
        self._last_counts: dict[str, int] | None = None
        self._last: RunProgress | None = None
        self._stop = threading.Event()
        self._bar: Any = None
        self._hidden = False
        if self.tty:
            self._bar = tqdm(
                total=total,
                file=self.stream,
                unit=what.rstrip("s") or what,
                dynamic_ncols=True,
                leave=True,
                # tqdm writes the postfix as ", counts": inside the brackets it reads
                # "[00:28, SUCCESS 20, RUNNING 9 · ETA 0:05]". No "<{remaining}": the ETA
                # is the run's own, which knows about jobs still running (tqdm's rate does not).
                bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                "[{elapsed}{postfix}]",
            )
            global _live
            _live = self
        self._ticker = threading.Thread(target=self._tick_loop, name="cli-progress", daemon=True)
        self._ticker.start()

    def update(self, progress: RunProgress) -> None:
        """Show ``progress`` (the bar moves; a plain line only when the counts changed)."""
        with self._lock:
            self._last = progress
            if self._bar is not None:
                if self._bar.total != progress.total:
                    self._bar.total = progress.total
                self._bar.n = progress.finished
                postfix = counts_text(progress.counts) + progress.eta_text
                self._bar.set_postfix_str(postfix, refresh=False)
                self._redraw()
            elif progress.counts != self._last_counts:
                self._line(progress)

    def tick(self) -> None:
        """What the ticker does: redraw the bar, or repeat the line after ``every`` quiet s."""
        with self._lock:
            if self._bar is not None:
                self._redraw()
            elif self._last is not None and self.clock() - self._last_line_at >= self.every:
                self._line(self._last)

    def close(self) -> None:
        """Stop the ticker; end the bar (or print the last line if it changed)."""
        self._stop.set()
        self._ticker.join()
        global _live
        with self._lock:
            if _live is self:
                _live = None
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    def write(self, text: str) -> None:
        """Print ``text`` as a line of its own, the bar (if any) drawn again below it."""
        with self._lock:
            if self._bar is not None and not self._hidden:
                self._bar.clear()
            try:
                print(text, file=self.stream, flush=True)
            except (BrokenPipeError, ValueError):
                return
            self._redraw()

    @contextlib.contextmanager
    def hidden(self) -> Iterator[None]:
        """No bar on the terminal inside the block (the counts still update)."""
        with self._lock:
            self._hidden = True
            if self._bar is not None:
                self._bar.clear()
        try:
            yield
        finally:
            with self._lock:
                self._hidden = False
                self._redraw()

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Draw the bar again (call with the lock held); not while it is hidden."""
        if self._bar is not None and not self._hidden:
            self._bar.refresh()

    def _line(self, p: RunProgress) -> None:
        elapsed = clock_text(self.clock() - self._started)
        text = (
            f"progress: {p.finished:,}/{p.total:,} {self.what} finished · "
            f"{counts_text(p.counts)} · elapsed {elapsed}{p.eta_text}"
        )
        try:
            print(text, file=self.stream, flush=True)
        except (BrokenPipeError, ValueError):
            return
        self.lines += 1
        self._last_counts = dict(p.counts)
        self._last_line_at = self.clock()

    def _tick_loop(self) -> None:
        interval = BAR_EVERY if self.tty else min(self.every, BAR_EVERY)
        while not self._stop.wait(interval):
            self.tick()


def follow_book(book: JobBook, reporter: ProgressReporter) -> Callable[[], None]:
    """Report ``book``'s progress at each change notice; returns the unsubscribe function."""

    def show(_change: BookChange | None) -> None:
        reporter.update(book_progress(book))

    unsubscribe = book.subscribe(show)
    show(None)
    return unsubscribe


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
