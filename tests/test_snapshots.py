"""Snapshot readers (grants.snapshots): connections read in parallel, all from one state of the data."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

import grants.snapshots as snapshots
from grants.extensions import db, sqlite_write_intent
from grants.models import Community
from reporting.rollup import RollupParams, build_rollup, default_fiscal_year
from tests.conftest import IS_PG
from tests.factories import CommunityFactory

sqlite_only = pytest.mark.skipif(IS_PG, reason="the SQLite pinning protocol")


def communities(conn) -> int:
    return conn.execute(select(func.count()).select_from(Community)).scalar_one()


def test_readers_share_one_snapshot_and_later_commits_do_not_show(app):
    CommunityFactory.create_batch(3)
    db.session.commit()
    with snapshots.snapshot_readers(db.engine, 3) as readers:
        CommunityFactory()  # committed after the readers opened, before any of them reads
        db.session.commit()
        assert [communities(r) for r in readers] == [3, 3, 3]  # the state they were opened on
        with db.engine.connect() as fresh:
            assert communities(fresh) == 4


def test_readers_read_only_committed_data(app):
    CommunityFactory()
    db.session.flush()  # in the session's transaction only
    with snapshots.snapshot_readers(db.engine, 2) as readers:
        assert [communities(r) for r in readers] == [0, 0]


def commit_on(calls_that_commit):
    """A stand-in for snapshots._data_version that commits a new community just before the
    readings in `calls_that_commit` (1-based), as another user would; returns it and its calls."""
    real, calls = snapshots._data_version, []

    def data_version(raw):
        calls.append(1)
        if calls_that_commit(len(calls)):
            CommunityFactory()
            db.session.commit()
        return real(raw)

    return data_version, calls


@sqlite_only
def test_a_commit_between_the_pins_pins_them_again(app, monkeypatch):
    data_version, calls = commit_on(lambda n: n == 2)  # after the first pinning
    monkeypatch.setattr(snapshots, "_data_version", data_version)
    with snapshots.snapshot_readers(db.engine, 3) as readers:
        assert len(calls) == 4  # pinned twice
        assert [communities(r) for r in readers] == [1, 1, 1]


@sqlite_only
def test_a_database_that_never_stops_changing_is_refused_not_read_inconsistently(app, monkeypatch):
    data_version, calls = commit_on(lambda n: n % 2 == 0)  # after every pinning
    monkeypatch.setattr(snapshots, "_data_version", data_version)
    with pytest.raises(snapshots.SnapshotUnavailable):
        with snapshots.snapshot_readers(db.engine, 2):
            pass
    assert len(calls) == 2 * snapshots.PIN_ATTEMPTS


@sqlite_only
def test_readers_in_a_writing_job_do_not_wait_for_the_write_lock(app):
    """A scheduler job declares write intent (BEGIN IMMEDIATE); its readers still begin deferred,
    so they read while another connection holds the write lock instead of queueing behind it."""
    writer = db.engine.raw_connection()
    writer.cursor().execute("BEGIN IMMEDIATE")
    token = sqlite_write_intent.set(True)
    try:
        started = time.monotonic()
        with snapshots.snapshot_readers(db.engine, 2) as readers:
            assert [communities(r) for r in readers] == [0, 0]
        assert time.monotonic() - started < 10  # the busy timeout is 15 s
    finally:
        sqlite_write_intent.reset(token)
        writer.rollback()
        writer.close()


def test_an_in_memory_database_is_read_on_one_connection():
    from sqlalchemy import create_engine

    assert not snapshots.can_share_snapshot(create_engine("sqlite://"))
    assert snapshots.can_share_snapshot(create_engine("sqlite:////tmp/some.sqlite"))
    assert snapshots.can_share_snapshot(create_engine("postgresql+psycopg://u@h/db"))


def test_snapshot_identifiers_are_checked_before_use():
    assert snapshots._snapshot_id("00000003-0000001B-1") == "00000003-0000001B-1"
    with pytest.raises(ValueError):
        snapshots._snapshot_id("1'; DROP TABLE report; --")


def _figures(rollup):
    def agg(a):
        return (a.grants, a.reports, a.expected, a.submitted, a.on_time, a.excused, a.values, a.percents)

    return (agg(rollup.total), {k: agg(v) for k, v in rollup.programs.items()},
            {k: agg(v) for k, v in rollup.communities.items()}, {k: agg(v) for k, v in rollup.states.items()},
            {k: agg(v) for k, v in rollup.periods.items()}, rollup.community_info, rollup.suppressor.marks,
            rollup.details)


def test_the_parallel_rollup_is_the_sequential_one(demo, monkeypatch):
    import reporting.rollup as rollup_module

    opened = []
    real = rollup_module.snapshot_readers

    def counted(engine, n):
        opened.append(n)
        return real(engine, n)

    monkeypatch.setattr(rollup_module, "snapshot_readers", counted)
    for params in (RollupParams(fiscal_year=default_fiscal_year()), RollupParams(),
                   RollupParams(fiscal_year=default_fiscal_year(), include_submitted=True, state="OH")):
        sequential = build_rollup(params, detail=True)
        parallel = build_rollup(params, detail=True, parallel=True)
        assert _figures(parallel) == _figures(sequential)
        assert parallel.details and parallel.suppressor.marks
    assert opened == [rollup_module.READERS] * 3  # the parallel builds did read on snapshot readers


def test_a_database_that_keeps_changing_is_read_one_query_after_the_other(demo, monkeypatch):
    import reporting.rollup as rollup_module

    def unavailable(engine, n):
        raise snapshots.SnapshotUnavailable("busy")

    params = RollupParams(fiscal_year=default_fiscal_year())
    sequential = build_rollup(params, detail=True)
    monkeypatch.setattr(rollup_module, "snapshot_readers", unavailable)
    assert _figures(build_rollup(params, detail=True, parallel=True)) == _figures(sequential)
