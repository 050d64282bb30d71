"""The CLI's tables and bars: into a pipe, a table is plain aligned text and a bar draws nothing
(the lines around it stay readable in logs); on a terminal the bar is drawn."""

from __future__ import annotations

import io

from bcsync_ops.terminal import print_table, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_table_into_a_pipe_is_one_aligned_line_a_row_with_its_header():
    out = io.StringIO()
    print_table(
        out,
        ("day", "bigcommerce", "check"),
        [("2026-11-28", 3, "ok"), ("2026-11-29", 12, "MISMATCH")],
        right={"bigcommerce"},
    )
    lines = [line for line in out.getvalue().splitlines() if line.strip(" ─")]
    assert lines[0].split() == ["day", "bigcommerce", "check"]
    assert [line.split() for line in lines[1:]] == [["2026-11-28", "3", "ok"], ["2026-11-29", "12", "MISMATCH"]]
    assert lines[1].index("3") == lines[2].index("12") + 1  # numbers aligned right


def test_a_bar_draws_nothing_into_a_pipe_but_its_lines_pass_through():
    out = io.StringIO()
    with progress_bar(out) as bar:
        bar.update(5, 10, "orders")
        bar.say("line 7: [Placed Order] has no email")  # brackets are text, not markup
    assert out.getvalue() == "line 7: [Placed Order] has no email\n"


def test_a_bar_on_a_terminal_shows_how_far_and_what():
    out = Terminal()
    with progress_bar(out) as bar:
        bar.update(1200, 4000, "orders")
    assert "1200/4000" in out.getvalue() and "orders" in out.getvalue()
