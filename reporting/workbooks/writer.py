"""A thin, typed layer over xlsxwriter shared by every workbook builder.

- constant_memory: each sheet's rows go to disk as they are written, so rows must come in order
  (`Sheet.row` only ever appends) and memory stays flat however long the Detail sheet is.
- Typed writes only: numbers with write_number, text with write_string. Text that a spreadsheet
  would read as a formula (= + - @, tab, CR at the start) also gets the quote-prefix format, so it
  stays text even when someone edits the cell.
- Text is written as itself: xlsxwriter writes a constant-memory string that starts with <r> and
  ends with </r> as raw rich-text XML, so such text (a name typed as "<r>a & b</r>" would break
  the whole file) goes as one rich-text run of its escaped self (`literal`).
- Excel's limits (1,048,576 rows, 16,384 columns) are checked before writing and raise
  WorkbookTooLarge: a sheet is never silently cut.
- A long run of rows (the Detail sheet) is written by several processes at once where the machine
  has the cores and forking is safe (`Sheet.rows`, `writer_processes`): xlsxwriter is Python, and
  Python runs one thread at a time. This uses xlsxwriter's constant-memory internals (a sheet's
  row file, its pending row, its dimension, a format's number), as pinned in requirements.txt;
  tests/test_workbook_writer.py checks the file is byte for byte the one a single process writes.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import textwrap
import threading
import traceback
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter

from grants.periods import EASTERN

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GUARDED_FIRST = frozenset((*FORMULA_TRIGGERS, "<"))  # text starting so is looked at before it is written

# kind -> xlsxwriter format properties
FORMATS: dict[str, dict] = {
    "text": {"valign": "top"},
    "bold": {"bold": True, "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "title": {"bold": True, "font_size": 14},
    "header": {"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 1, "bg_color": "#DFE1E2"},
    "header_num": {"bold": True, "text_wrap": True, "valign": "bottom", "align": "right", "bottom": 1,
                   "bg_color": "#DFE1E2"},
    "header_code": {"bold": True, "text_wrap": True, "valign": "bottom", "align": "center", "bottom": 1,
                    "bg_color": "#DFE1E2"},
    # numbers sit at the top of a row like the text beside them (a wrapped label makes a row taller)
    "int": {"num_format": "#,##0", "valign": "top"},
    # whole numbers that are names, not amounts (a year, a region, a version): centred, so a region
    # number does not run into the text of the next column
    "code": {"num_format": "0", "valign": "top", "align": "center"},
    "number": {"num_format": "#,##0.0", "valign": "top"},
    "currency": {"num_format": "$#,##0.00", "valign": "top"},
    "rate": {"num_format": "0.0%", "valign": "top"},
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
    "total_text": {"bold": True, "top": 1},
    "total_int": {"bold": True, "top": 1, "num_format": "#,##0"},
    "total_number": {"bold": True, "top": 1, "num_format": "#,##0.0"},
    "total_currency": {"bold": True, "top": 1, "num_format": "$#,##0.00"},
    "total_rate": {"bold": True, "top": 1, "num_format": "0.0%"},
}
NUMERIC_KINDS = {"int", "code", "number", "currency", "rate", "total_int", "total_number", "total_currency", "total_rate"}
TEXT_KINDS = ("text", "bold", "wrap", "title", "header", "header_num", "header_code", "total_text")
HEADER_KINDS = {k: "header_code" if k == "code" else "header_num" for k in NUMERIC_KINDS}  # heading over a column
HEADER_HEIGHT = 48  # points: three lines of a wrapped column heading
LINE_HEIGHT = 15
MAX_ROW_HEIGHT = 409  # points: Excel's limit
PAGE_WIDTH_CHARS = 220  # wider sheets print across pages instead of shrinking to one page width
PAGE_TEXT_CHARS = 100  # of a printed page's header or footer text (Excel allows 255 with its codes)
WRITERS_MAX = 4  # processes writing one run of rows
# Rows a writer process takes at least: its fork and join cost about 8 ms. Measured on the bench
# data's Detail sheets (2 cores): 109 rows took 19 ms in one process or two, 298 rows 52 ms in one
# and 35 ms in two.
ROWS_PER_WRITER_MIN = 100


class WorkbookTooLarge(ValueError):
    """A sheet would exceed Excel's row or column limit."""


def excel_datetime(value: datetime) -> datetime:
    """An instant as Eastern wall-clock time (Excel has no time zones)."""
    return value.astimezone(EASTERN).replace(tzinfo=None)


def excel_date(value: date) -> datetime:
    return datetime(value.year, value.month, value.day)


def literal(text: str) -> str:
    """`text` as xlsxwriter must be given it in constant-memory mode to show exactly `text`: there
    a string that starts with <r> and ends with </r> is written unescaped, as rich-text XML."""
    if text.startswith("<r>") and text.endswith("</r>"):
        return f'<r><t xml:space="preserve">{xml_escape(text)}</t></r>'
    return text


def text_cell(value: str, numeric: bool, plain, other) -> tuple[str, object]:
    """The string and format that show `value` as typed in a cell: `other` for text in a numeric
    column (a suppression label, right-aligned) and for formula-like text (quoted), `plain` else;
    text xlsxwriter would write as XML escaped (`literal`)."""
    return literal(value), other if numeric or (value and value[0] in FORMULA_TRIGGERS) else plain


def writer_processes(rows: int) -> int:
    """How many processes write a run of `rows` rows (`Sheet.rows`): one per core, at most
    WRITERS_MAX, each with at least ROWS_PER_WRITER_MIN rows; only this one where forking is not
    safe: a process running other threads (the development server, the scheduler) would leave its
    copy with their locks held."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), WRITERS_MAX, rows // ROWS_PER_WRITER_MIN))


def eastern_stamp(moment: datetime) -> str:
    """A workbook's generation or download time as printed on it: '2026-12-02 12:17 Eastern'."""
    return f"{moment.astimezone(EASTERN):%Y-%m-%d %H:%M} Eastern"


def wrapped_lines(text: str, width: float) -> int:
    """About how many lines `text` takes wrapped in a column `width` characters wide (each of its
    own lines at least one). Generous: no spreadsheet grows a row whose height was written, so
    too few lines would hide text."""
    return sum(max(1, math.ceil(len(part) / (width * 0.95))) for part in text.split("\n"))


def wrapped_height(*texts_and_widths, minimum: float = LINE_HEIGHT) -> float | None:
    """Points for a row whose wrapped cells are (text, width, text, width...): the most lines of
    any, at least `minimum`, at most Excel's limit; None when that is the default one-line height."""
    lines = max(wrapped_lines(text, width) for text, width in zip(texts_and_widths[::2], texts_and_widths[1::2]))
    height = min(MAX_ROW_HEIGHT, max(minimum, LINE_HEIGHT * lines))
    return height if height > LINE_HEIGHT else None


def page_text(text: str) -> str:
    """Text for a printed page's header or footer, where "&" starts a code: written "&&"."""
    return text[:PAGE_TEXT_CHARS].replace("&", "&&")


def page_setup(ws, *, running_head: str = "", running_foot: str = "", landscape: bool = True,
               one_page_wide: bool = True) -> None:
    """How every workbook's sheets print: US Letter, narrow side margins, `running_head` and
    `running_foot` at the left of each page's header and footer and the sheet's name and "Page 2
    of 5" at the right (a loose page still says where it comes from), shrunk to one page wide when
    `one_page_wide` (wider sheets print across pages)."""
    if landscape:
        ws.set_landscape()
    ws.set_paper(1)
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.75)
    head = f"&L{page_text(running_head)}" if running_head else ""
    foot = f"&L{page_text(running_foot)}" if running_foot else ""
    ws.set_header(f"{head}&R&B&A", {"margin": 0.3})
    ws.set_footer(f"{foot}&RPage &P of &N", {"margin": 0.3})
    if one_page_wide:
        ws.fit_to_pages(1, 0)


class Book:
    """An xlsxwriter workbook in constant-memory mode with the shared formats."""

    def __init__(self, stream, *, record: bool = False, running_head: str = "", running_foot: str = "",
                 writers: int | None = None) -> None:
        """`running_head` and `running_foot`: what every printed page says it is (`page_setup`);
        `writers`: how many processes write a run of rows (None: `writer_processes` decides)."""
        self.workbook = xlsxwriter.Workbook(stream, {"constant_memory": True, "strings_to_formulas": False,
                                                     "strings_to_urls": False, "strings_to_numbers": False})
        self.formats = {kind: self.workbook.add_format(props) for kind, props in FORMATS.items()}
        self.quoted = {kind: self.workbook.add_format({**FORMATS[kind], "quote_prefix": True}) for kind in TEXT_KINDS}
        self.suppressed = {kind: self.workbook.add_format({**{k: v for k, v in FORMATS[kind].items() if k != "num_format"},
                                                           "align": "right"}) for kind in NUMERIC_KINDS}
        # a kind's format for text that is not plain text (`text_cell`)
        self.other = {kind: self.suppressed[kind] if kind in NUMERIC_KINDS else self.quoted.get(kind) for kind in FORMATS}
        # When recording, every written row is kept (benchmarks replay them with bare xlsxwriter).
        self.recording: list[tuple[str, int, tuple, tuple]] | None = [] if record else None
        self.running_head, self.running_foot = running_head, running_foot
        self.writers = writers

    def sheet(self, name: str) -> Sheet:
        return Sheet(self, name)

    def close(self) -> None:
        self.workbook.close()


class Sheet:
    """One worksheet written top to bottom."""

    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.name = name
        self.ws = book.workbook.add_worksheet(name)
        self.next_row = 0
        self.width = 0
        self.page_breaks: list[int] = []
        self.charts = 0  # charts inserted so far

    @staticmethod
    def reserve(name: str, rows: int, cols: int) -> None:
        """Refuse, before anything is written, a sheet Excel could not hold."""
        if rows > MAX_ROWS:
            raise WorkbookTooLarge(
                f"The {name} sheet would need {rows:,} rows, more than the {MAX_ROWS:,} Excel allows. "
                "Choose a fiscal year, a period or a program to make it smaller.")
        if cols > MAX_COLS:
            raise WorkbookTooLarge(
                f"The {name} sheet would need {cols:,} columns, more than the {MAX_COLS:,} Excel allows.")

    def skip(self, rows: int = 1) -> None:
        self.next_row += rows

    def new_page(self) -> None:
        """Print what comes next from the top of a page (a chart that would straddle two)."""
        self.page_breaks.append(self.next_row)

    def row(self, cells: Sequence, kinds: Sequence[str] | str = "text", col: int = 0,
            height: float | None = None) -> int:
        """Write cells left to right on the next row; returns the row index. `kinds` is one kind
        for every cell or one per cell. None leaves a cell blank. `height` in points (wrapped text
        needs it: no spreadsheet grows a row written in constant-memory mode)."""
        r = self.next_row
        if r >= MAX_ROWS:
            raise WorkbookTooLarge(f"The {self.name} sheet reached Excel's limit of {MAX_ROWS:,} rows.")
        if col + len(cells) > MAX_COLS:
            raise WorkbookTooLarge(f"The {self.name} sheet reached Excel's limit of {MAX_COLS:,} columns.")
        ws, book = self.ws, self.book
        formats, other = book.formats, book.other
        if height:
            ws.set_row(r, height)
        single = kinds if isinstance(kinds, str) else None
        for i, value in enumerate(cells):
            if value is None:
                continue
            kind = single or kinds[i]
            c = col + i
            if isinstance(value, str):
                ws.write_string(r, c, *text_cell(value, kind in NUMERIC_KINDS, formats[kind], other[kind]))
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, excel_datetime(value), formats["datetime"])
            elif isinstance(value, date):
                ws.write_datetime(r, c, excel_date(value), formats["date"])
            else:
                ws.write_number(r, c, float(value) if isinstance(value, Decimal) else value, formats[kind])
        if book.recording is not None:
            book.recording.append((self.name, r, tuple(cells), (single,) if single else tuple(kinds)))
        self.width = max(self.width, col + len(cells))
        self.next_row = r + 1
        return r

    def rows(self, items: Sequence, kinds: Sequence[str], cells: Callable[[object], Sequence] | None = None) -> None:
        """One row per item, of the same columns (the Detail sheet): `cells(item)` its len(kinds)
        cells (the item itself without `cells`). What `row` writes, with each column's formats
        looked up once instead of once per cell. Where `writer_processes` allows, forked copies
        of this process write the first parts at the same time as this one writes the last
        (`_rows_in_processes`); the sheet is the same either way."""
        if len(kinds) > MAX_COLS:
            raise WorkbookTooLarge(f"The {self.name} sheet reached Excel's limit of {MAX_COLS:,} columns.")
        first = self.next_row
        if first + len(items) > MAX_ROWS:
            raise WorkbookTooLarge(f"The {self.name} sheet reached Excel's limit of {MAX_ROWS:,} rows.")
        write = self._row_writer(kinds, cells)
        book = self.book
        processes = 1 if book.recording is not None else book.writers or writer_processes(len(items))
        if not (1 < processes <= len(items) and _rows_in_processes(self, items, first, write, processes)):
            write(items, first)  # one process, or the system could not fork (out of processes or memory)
        self.next_row = first + len(items)
        self.width = max(self.width, len(kinds))

    def _row_writer(self, kinds: Sequence[str], cells: Callable[[object], Sequence] | None):
        """write(items, first_row): the rows of `items` from `first_row` on."""
        ws, book = self.ws, self.book
        write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
        plain = [book.formats[k] for k in kinds]
        other = [book.other[k] for k in kinds]
        numeric = [k in NUMERIC_KINDS for k in kinds]
        date_format, datetime_format = book.formats["date"], book.formats["datetime"]
        # A format's number in the file is given when a cell of it is first written out: given
        # here, before any writer process starts (the row still pending too), every process
        # writes the same numbers, which the file's list of formats then has.
        pending = [cell.format for cell in ws.table.get(ws.previous_row, {}).values()]
        pending.append((ws.set_rows.get(ws.previous_row) or (None, None))[1])  # the row's own format
        for used in dict.fromkeys([*pending, *plain, *other, date_format, datetime_format]):
            if used is not None:
                used._get_xf_index()
        recording, columns, name = book.recording, range(len(kinds)), self.name

        def write(items: Sequence, r: int) -> None:
            for item in items:
                row = cells(item) if cells else item
                for c in columns:
                    value = row[c]
                    if value is None:
                        continue
                    kind = type(value)
                    if kind is float or kind is int:
                        write_number(r, c, value, plain[c])
                    elif kind is str:
                        if numeric[c] or (value and value[0] in GUARDED_FIRST):
                            write_string(r, c, *text_cell(value, numeric[c], plain[c], other[c]))
                        else:  # plain text, as typed: the most of any sheet's strings, spared the call
                            write_string(r, c, value, plain[c])
                    elif kind is datetime:
                        write_datetime(r, c, excel_datetime(value), datetime_format)
                    elif kind is date:
                        write_datetime(r, c, excel_date(value), date_format)
                    else:
                        write_number(r, c, float(value), plain[c])
                if recording is not None:
                    recording.append((name, r, tuple(row), tuple(kinds)))
                r += 1
        return write

    def header(self, labels: Sequence[str], kinds: Sequence[str], widths: Sequence[float] | None = None) -> int:
        """A heading row: headings over numbers are right-aligned like their numbers. With the
        column widths, the row is as tall as the longest wrapped heading (no spreadsheet grows a
        row written in constant-memory mode, so a long heading would otherwise be cut)."""
        height = HEADER_HEIGHT
        if widths:
            lines = max(len(textwrap.wrap(label, max(1, int(width * 0.9)))) for label, width in zip(labels, widths))
            height = min(MAX_ROW_HEIGHT, max(HEADER_HEIGHT, LINE_HEIGHT * lines + 4))
        return self.row(labels, [HEADER_KINDS.get(k, "header") for k in kinds], height=height)

    def finish(self, *, header_row: int | None, widths: Sequence[float], freeze_cols: int = 0,
               filter_rows: tuple[int, int] | None = None, landscape: bool = True, repeat_header: bool = True) -> None:
        """Column widths, frozen header (also printed on every page unless repeat_header is False),
        autofilter, print area and page setup (with the book's running header and footer)."""
        ws = self.ws
        for i, width in enumerate(widths):
            ws.set_column(i, i, width)
        last_row, last_col = max(self.next_row - 1, 0), max(self.width - 1, 0)
        if header_row is not None:
            ws.freeze_panes(header_row + 1, freeze_cols)
            if repeat_header:
                ws.repeat_rows(header_row)
        if filter_rows is not None:
            first, last = filter_rows
            ws.autofilter(first, 0, max(first, last), last_col)
        ws.print_area(0, 0, last_row, last_col)
        if self.page_breaks:
            ws.set_h_pagebreaks(self.page_breaks)
        one_page_wide = sum(widths) <= PAGE_WIDTH_CHARS
        page_setup(ws, running_head=self.book.running_head, running_foot=self.book.running_foot,
                   landscape=landscape, one_page_wide=one_page_wide)
        if not one_page_wide and freeze_cols:
            ws.repeat_columns(0, freeze_cols - 1)


# --- a run of rows written by several processes -----------------------------------------------------

DIMENSION = ("dim_rowmin", "dim_rowmax", "dim_colmin", "dim_colmax")  # a worksheet's extent, as xlsxwriter keeps it


def _rows_in_processes(sheet: Sheet, items: Sequence, first_row: int, write, processes: int) -> bool:
    """Write `items` (rows from `first_row` on) in `processes` parts: forked copies of this process
    write all but the last, this one the last, each into a file of its own; the parts are then
    appended in order to the sheet's own row file, which xlsxwriter assembles at close as it would
    had one process written them all (constant-memory mode keeps only the pending row in memory,
    and a part's last row is written by the part, so no row is written twice or lost). A child
    reports the cells' extent it saw (the sheet's dimension) through a pipe. A child that fails
    fails the workbook: this process waits for every child before it raises. False, with nothing
    written, when the system could not fork the first child."""
    ws = sheet.ws
    bounds = [len(items) * i // processes for i in range(processes + 1)]
    own_file = ws.row_data_fh
    own_file.flush()  # a child's copy of unwritten buffered rows would be written twice
    parts = []
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for _ in range(processes):
            fd, path = tempfile.mkstemp(dir=ws.tmpdir, suffix=".rows")
            os.close(fd)
            parts.append(path)
        try:
            for i in range(processes - 1):
                read_end, write_end = os.pipe()
                try:
                    pid = os.fork()
                except OSError:
                    os.close(read_end)
                    os.close(write_end)
                    if children:
                        raise
                    return False
                if pid == 0:  # the child: never returns
                    os.close(read_end)
                    _write_part(ws, write, items[bounds[i]:bounds[i + 1]], first_row + bounds[i], parts[i],
                                keep_pending=i == 0, report=write_end)
                os.close(write_end)
                children.append((pid, read_end))
            with open(parts[-1], "w", encoding="utf-8") as fh:
                ws.fh = ws.row_data_fh = fh
                _start_part(ws, first_row + bounds[-2])
                write(items[bounds[-2]:], first_row + bounds[-2])  # its last row stays pending, as at the end of any sheet
        finally:
            extents = [_joined(pid, read_end) for pid, read_end in children]
        failed = [pid for (pid, _), extent in zip(children, extents) if extent is None]
        if failed:
            raise RuntimeError(f"A process writing rows of the {sheet.name} sheet failed (pid {failed[0]}); "
                               "its error is in the log.")
        with open(ws.row_data_filename, "ab") as out:
            for path in parts:
                with open(path, "rb") as part:
                    shutil.copyfileobj(part, out)
        for extent in extents:
            _widen(ws, extent)
        return True
    finally:
        if ws.row_data_fh is not own_file:  # this process wrote its part: the sheet goes on in its own file
            own_file.close()  # nothing in its buffer: flushed before the fork, unused since
            ws.fh = ws.row_data_fh = open(ws.row_data_filename, "a+", encoding="utf-8")  # noqa: SIM115 (xlsxwriter closes it)
        for path in parts:
            os.unlink(path)


def _start_part(ws, row: int) -> None:
    """A part that starts at `row`: the row pending before it is the first part's to write."""
    ws.table.clear()
    ws.previous_row = row


def _write_part(ws, write, items: Sequence, row: int, path: str, *, keep_pending: bool, report: int) -> None:
    """In a child: write `items` from `row` on into `path` (the first part also the row pending
    before it), report the cells' extent through `report` and leave without running anything of
    the parent's (os._exit: no atexit, no buffers of the parent's files flushed twice)."""
    status = 1
    try:
        with open(path, "w", encoding="utf-8") as fh:
            ws.fh = ws.row_data_fh = fh
            if not keep_pending:
                _start_part(ws, row)
            write(items, row)
            ws._write_single_row()  # the part's last row: the next part starts after it
        os.write(report, json.dumps([getattr(ws, name) for name in DIMENSION]).encode())
        status = 0
    except BaseException:  # noqa: BLE001 (reported to the parent by the exit status)
        traceback.print_exc()
    finally:
        os._exit(status)


def _joined(pid: int, read_end: int) -> list | None:
    """A child's reported extent once it has exited; None when it failed."""
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    return json.loads(report) if os.waitstatus_to_exitcode(status) == 0 and report else None


def _widen(ws, extent: list) -> None:
    """The sheet's dimension, widened to what a child wrote (its DIMENSION values)."""
    for name, theirs, pick in zip(DIMENSION, extent, (min, max, min, max)):
        ours = getattr(ws, name)
        if theirs is not None:
            setattr(ws, name, theirs if ours is None else pick(ours, theirs))
