"""The workbook writer's runs of rows written by several processes: the same file as one process
writes, every row once, a failing writer process failing the workbook, and no fork where it is
not safe."""
from __future__ import annotations

import tempfile
import threading
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pytest
import time_machine

from reporting import workbooks
from reporting.rollup import RollupParams, default_fiscal_year
from reporting.workbooks import writer

KINDS = ("text", "int", "date", "rate")


def _items(n: int) -> list[tuple]:
    # the last column is filled in the first rows only (a child's)
    return [(f"=row {i}" if i % 7 == 0 else f"row {i}", i, date(2026, 1 + i % 12, 1), 0.5 if i < 3 else None)
            for i in range(n)]


def _write(path, items, writers: int, cells=None) -> None:
    book = writer.Book(str(path), writers=writers)
    sheet = book.sheet("Rows")
    sheet.row(["Title"], "title")
    sheet.header(["Name", "Count", "Date", "Rate"], KINDS)  # pending when the writers start
    sheet.rows(items, KINDS, cells)
    sheet.row(["After the run"], "bold")
    book.close()


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/") or n == "xl/styles.xml"}


@pytest.mark.parametrize("writers", [2, 3, 4])
def test_rows_written_by_several_processes_make_the_same_file_as_one(tmp_path, writers):
    items = _items(1001)
    _write(tmp_path / "one.xlsx", items, 1)
    _write(tmp_path / "many.xlsx", items, writers)
    assert _parts(tmp_path / "many.xlsx") == _parts(tmp_path / "one.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "many.xlsx")["Rows"].iter_rows(values_only=True))
    assert rows[0][0] == "Title" and rows[1] == ("Name", "Count", "Date", "Rate")
    assert [r[1] for r in rows[2:-1]] == list(range(1001))  # every row once, in order
    assert rows[2][3] == 0.5 and rows[-1][0] == "After the run"


def test_the_sheets_extent_counts_what_a_child_wrote(tmp_path):
    # no row before the run: its first row and its last column are a child's alone
    for n in (1, 2):
        book = writer.Book(str(tmp_path / f"w{n}.xlsx"), writers=n)
        book.sheet("Rows").rows(_items(300), KINDS)
        book.close()
    assert _parts(tmp_path / "w2.xlsx") == _parts(tmp_path / "w1.xlsx")
    assert b'<dimension ref="A1:D300"/>' in _parts(tmp_path / "w2.xlsx")["xl/worksheets/sheet1.xml"]


def test_the_export_is_the_same_whatever_the_number_of_writers(demo, tmp_path, monkeypatch):
    params = RollupParams(fiscal_year=default_fiscal_year())
    files = {}
    with time_machine.travel(datetime.now(UTC), tick=False):  # one generation time printed on both
        for n in (1, 2):
            monkeypatch.setattr(writer, "writer_processes", lambda rows, n=n: n)
            files[n] = tmp_path / f"w{n}.xlsx"
            workbooks.build("rollup", params, str(files[n]))
    one, two = _parts(files[1]), _parts(files[2])
    assert two == one
    assert len(openpyxl.load_workbook(files[2])["Detail"]["A"]) > 2


def test_a_failing_writer_process_fails_the_workbook_and_leaves_no_part(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def cells(item):
        if item[1] == 3:  # in the first part: a child's
            raise ValueError("no such row")
        return item

    with pytest.raises(RuntimeError, match="writing rows of the Rows sheet failed"):
        _write(tmp_path / "broken.xlsx", _items(100), 2, cells)
    assert not list(tmp_path.glob("*.rows"))


def test_rows_are_written_here_when_the_system_cannot_fork(tmp_path, monkeypatch):
    items = _items(500)
    _write(tmp_path / "one.xlsx", items, 1)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(writer.os, "fork", no_fork)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _write(tmp_path / "unforked.xlsx", items, 3)
    assert _parts(tmp_path / "unforked.xlsx") == _parts(tmp_path / "one.xlsx")
    assert not list(tmp_path.glob("*.rows"))


def test_no_writer_process_where_other_threads_run(monkeypatch):
    monkeypatch.setattr(writer.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    with monkeypatch.context() as alone:  # as if this were the only thread (a test before may have left one)
        alone.setattr(writer.threading, "active_count", lambda: 1)
        assert writer.writer_processes(100_000) == writer.WRITERS_MAX
        assert writer.writer_processes(writer.ROWS_PER_WRITER_MIN * 2) == 2
        assert writer.writer_processes(writer.ROWS_PER_WRITER_MIN - 1) == 1
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert writer.writer_processes(100_000) == 1
    finally:
        stop.set()
        other.join()
