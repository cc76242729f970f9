"""Workbook registry: one builder per workbook, `build_<name>(params, stream)`.

The download route, `flask --app wsgi reports export` and the scheduled monthly email all call
`build(name, params, stream)`, so every caller gets the same file for the same filters.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from grants.extensions import sqlite_write_intent
from reporting.rollup import RollupParams
from reporting.workbooks.rollup import build_rollup_workbook
from reporting.workbooks.writer import WorkbookTooLarge

WORKBOOKS: dict[str, Callable] = {
    "rollup": build_rollup_workbook,
}

__all__ = ["WORKBOOKS", "WorkbookTooLarge", "build", "params_from"]


def params_from(values: RollupParams | Mapping | None) -> RollupParams:
    """RollupParams from RollupParams, or from a mapping of its field names (a job's settings)."""
    if isinstance(values, RollupParams):
        return values
    fields = RollupParams.__dataclass_fields__
    return RollupParams(**{k: v for k, v in (values or {}).items() if k in fields})


def build(name: str, params: RollupParams | Mapping | None, stream) -> None:
    """Write workbook `name` for `params` to `stream` (a path or a binary file opened for writing).

    Raises KeyError for an unknown workbook and WorkbookTooLarge when a sheet would not fit Excel.
    """
    try:
        builder = WORKBOOKS[name]
    except KeyError:
        raise KeyError(f"Unknown workbook {name!r}; known: {', '.join(sorted(WORKBOOKS))}") from None
    token = sqlite_write_intent.set(False)  # a build only reads: even in a job it takes no write lock
    try:
        with _cyclic_gc_paused():
            builder(params_from(params), stream)
    finally:
        sqlite_write_intent.reset(token)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A build makes hundreds of thousands of short-lived objects (rows, cells, XML strings) that
    reference counting frees as it goes; the cyclic collector would meanwhile walk the whole heap
    again and again (a tenth of the build's time). It resumes afterwards."""
    if not gc.isenabled():  # someone else has paused it: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
