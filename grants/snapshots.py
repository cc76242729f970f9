"""Several database connections that read one and the same snapshot, for queries run in parallel.

A big read (the roll-up workbook) runs its independent queries on two or three connections at
once; the database does the work on several cores while Python waits. The figures must still
come from one state of the data, as if one transaction had read them all:

- PostgreSQL: the first connection opens a REPEATABLE READ, READ ONLY transaction and exports its
  snapshot (pg_export_snapshot); the others open theirs with SET TRANSACTION SNAPSHOT.
- SQLite (WAL): each connection's read transaction sees the database as of its first read. The
  connections are pinned one after the other between two readings of `PRAGMA data_version` on a
  connection outside any transaction; that number changes whenever another connection commits.
  When it did not change, no commit fell between the pins and every connection sees the same
  state; when it did, the connections are released and pinned again.

Only committed data is read (these are new connections, not the session's transaction).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

PIN_ATTEMPTS = 5


class SnapshotUnavailable(RuntimeError):
    """Other connections kept committing while the readers were being pinned."""


def can_share_snapshot(engine: Engine) -> bool:
    """False for an in-memory SQLite database: each connection would open a database of its own."""
    return engine.dialect.name == "postgresql" or engine.url.database not in (None, "", ":memory:")


@contextmanager
def snapshot_readers(engine: Engine, n: int) -> Iterator[list[Connection]]:
    """`n` connections in read transactions on one snapshot; rolled back and closed afterwards."""
    opener = _pg_readers if engine.dialect.name == "postgresql" else _sqlite_readers
    readers = opener(engine, n)
    try:
        yield readers
    finally:
        _close(readers)


def _close(readers: list[Connection]) -> None:
    """Close every connection (closing rolls its transaction back), even when one fails."""
    for conn in readers:
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110 - the others are closed all the same
            pass


def _pg_readers(engine: Engine, n: int) -> list[Connection]:
    readers: list[Connection] = []
    try:
        for i in range(n):
            conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
            readers.append(conn)
            if i == 0:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            else:  # must be the transaction's first statement
                conn.execute(text(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(snapshot)}'"))  # takes no parameters
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    except BaseException:
        _close(readers)
        raise
    return readers


def _snapshot_id(snapshot: str) -> str:
    """pg_export_snapshot()'s identifier (hex digits and dashes), checked before it is quoted."""
    if not snapshot or any(c not in "0123456789ABCDEFabcdef-" for c in snapshot):
        raise ValueError(f"unexpected snapshot identifier {snapshot!r}")
    return snapshot


def _sqlite_readers(engine: Engine, n: int) -> list[Connection]:
    watch = engine.raw_connection()  # the driver's own connection: no transaction (autocommit)
    try:
        for _ in range(PIN_ATTEMPTS):
            before = _data_version(watch)
            readers: list[Connection] = []
            try:
                for _ in range(n):
                    # read_only: a deferred BEGIN even in a writing request or job (grants._sqlite_begin)
                    conn = engine.connect().execution_options(read_only=True)
                    readers.append(conn)
                    conn.exec_driver_sql("SELECT count(*) FROM sqlite_schema").all()  # the snapshot is taken here
                pinned = _data_version(watch) == before
            except BaseException:
                _close(readers)
                raise
            if pinned:
                return readers
            _close(readers)
        raise SnapshotUnavailable(f"the database changed during each of {PIN_ATTEMPTS} attempts")
    finally:
        watch.close()


def _data_version(raw) -> int:
    cursor = raw.cursor()
    try:
        cursor.execute("PRAGMA data_version")
        return cursor.fetchone()[0]
    finally:
        cursor.close()
