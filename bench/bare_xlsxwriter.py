"""The baseline for the roll-up export: bare xlsxwriter writing the same cells with the same types
and number formats, from rows already in memory (recorded from a real export), so its time is
writing only: no queries, no suppression, no charts."""
from __future__ import annotations

from datetime import date, datetime

import xlsxwriter

from grants.periods import EASTERN
from reporting.workbooks.writer import FORMATS, NUMERIC_KINDS


def write(recording: list[tuple[str, int, tuple, tuple]], path: str) -> int:
    """Replay recorded rows (sheet, row, cells, kinds) into a new workbook; returns cells written."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    formats = {kind: book.add_format(props) for kind, props in FORMATS.items()}
    text = book.add_format({"align": "right"})
    sheets: dict[str, object] = {}
    cells_written = 0
    for name, r, cells, kinds in recording:
        ws = sheets.get(name) or sheets.setdefault(name, book.add_worksheet(name))
        single = kinds[0] if len(kinds) == 1 else None
        for c, value in enumerate(cells):
            if value is None:
                continue
            kind = single or kinds[c]
            if isinstance(value, str):
                ws.write_string(r, c, value, text if kind in NUMERIC_KINDS else formats[kind])
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value.astimezone(EASTERN).replace(tzinfo=None), formats["datetime"])
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), formats["date"])
            else:
                ws.write_number(r, c, value, formats[kind])
            cells_written += 1
    book.close()
    return cells_written
