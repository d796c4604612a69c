"""Progress reporting: a no-op reporter and a rich display (one bar per file, one overall, bytes/s)."""

from __future__ import annotations

import threading
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Bar(Protocol):
    """Progress of one file."""

    def total(self, n: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def reset(self, completed: int) -> None: ...

    def end(self) -> None: ...


class Reporter(Protocol):
    """Makes bars; ``overall`` counts every byte of the run."""

    def bar(self, label: str) -> Bar: ...

    def close(self) -> None: ...


class NullBar:
    def total(self, n: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def reset(self, completed: int) -> None:
        pass

    def end(self) -> None:
        pass


class NullReporter:
    """No display (library use, tests, non-interactive runs)."""

    def bar(self, label: str) -> Bar:
        return NullBar()

    def close(self) -> None:
        pass


class _RichBar:
    def __init__(self, owner: RichReporter, task: TaskID) -> None:
        self.owner, self.task = owner, task
        self.completed = 0

    def total(self, n: int | None) -> None:
        self.owner.progress.update(self.task, total=n)

    def advance(self, n: int) -> None:
        self.completed += n
        self.owner.progress.advance(self.task, n)
        self.owner.progress.advance(self.owner.overall, n)

    def reset(self, completed: int) -> None:
        self.owner.progress.advance(self.owner.overall, completed - self.completed)
        self.completed = completed
        self.owner.progress.update(self.task, completed=completed)

    def end(self) -> None:
        self.owner.progress.remove_task(self.task)


class RichReporter:
    """Live bars on stderr: per file (name, bytes, rate, ETA) and the run's total."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )
        self.overall = self.progress.add_task("[bold]all files", total=None)
        self._lock = threading.Lock()
        self.progress.start()

    def bar(self, label: str) -> Bar:
        with self._lock:
            return _RichBar(self, self.progress.add_task(label[:48], total=None))

    def close(self) -> None:
        self.progress.stop()
