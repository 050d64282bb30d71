"""What the CLI draws: tables and progress bars, from `rich`. On a terminal a bar redraws in
place; into a pipe or a file no bar is drawn, and only the lines that matter are written."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

# Wide enough for a hook's destination URL: a pipe has no width to ask.
PIPE_WIDTH = 160


def console(out: TextIO) -> Console:
    return Console(file=out, width=None if out.isatty() else PIPE_WIDTH, highlight=False, soft_wrap=False)


def print_table(
    out: TextIO, columns: Sequence[str], rows: Sequence[Sequence[object]], *, right: Collection[str] = ()
) -> None:
    """A plain table: a header, then one line a row; `right` names the columns aligned right."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console(out).print(table)


class RateColumn(ProgressColumn):
    """Items a second, over rich's recent samples."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "--/s")


class Bar:
    """One task's progress: `update(done, total, stage)` as often as the work reports it."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def update(self, done: int, total: int | None, stage: str) -> None:
        self._progress.update(self._task, completed=done, total=total or None, stage=stage)

    def say(self, line: str) -> None:
        """A line above the bar (the bar stays last), or just the line where no bar is drawn."""
        self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(out: TextIO, *, counted: bool = True) -> Iterator[Bar]:
    """`━━━━━━╸━━━━ 1200/4000 orders 40.0/s 0:01:10`, redrawn in place on a terminal only;
    `counted=False` for work measured in something not worth showing (a file's bytes)."""
    columns: list[ProgressColumn] = [BarColumn(bar_width=30)]
    if counted:
        columns.append(MofNCompleteColumn())
    columns += [TextColumn("{task.fields[stage]}")]
    if counted:
        columns.append(RateColumn())
    columns.append(TimeRemainingColumn())
    bar = Progress(*columns, console=console(out), disable=not out.isatty())
    with bar:
        yield Bar(bar, bar.add_task("", total=None, stage=""))
